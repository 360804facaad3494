"""tlm-prep-cgec --force replaces only a previous output of its own, never anything else (issue 13)."""
import json
import shutil
from pathlib import Path

from helpers import PY, ROOT, run

SAMPLE = ROOT / "tests" / "data" / "cgec"


def prep(*args: object):
    return run([PY, "-m", "preprocess.cgec", *args], check=False)


def sample_args(out: Path, nlpcc: Path = SAMPLE / "nlpcc2018_format_sample.txt") -> list[object]:
    return ["--train-nlpcc", nlpcc, "--valid-size", "20", "--out", out, "--force"]


def one_line_error(proc, message: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("tlm-prep-cgec: error: ") and message in lines[0], proc.stderr


def test_force_refuses_a_folder_holding_anything_else(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    one_line_error(prep(*sample_args(out)), "is not an output of this tool")
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and (out / "notes.txt").read_text() == "mine"


def test_force_refuses_a_previous_output_with_foreign_files(tmp_path):
    out = tmp_path / "out"
    assert prep(*sample_args(out)).returncode == 0
    (out / "model.pt").write_text("a checkpoint the user put there")
    one_line_error(prep(*sample_args(out)), "is not an output of this tool")
    assert (out / "model.pt").read_text() == "a checkpoint the user put there"


def test_force_never_replaces_a_file(tmp_path):
    out = tmp_path / "out"
    out.write_text("a file")
    one_line_error(prep(*sample_args(out)), "is not an output of this tool")
    assert out.read_text() == "a file"


def test_force_never_replaces_the_input(tmp_path):
    out = tmp_path / "out"
    assert prep(*sample_args(out)).returncode == 0
    inside = out / "text" / "input.txt"
    shutil.copy(SAMPLE / "nlpcc2018_format_sample.txt", inside)  # now the folder also holds the input
    one_line_error(prep(*sample_args(out, nlpcc=inside)), "lies inside --out")
    assert inside.read_bytes() == (SAMPLE / "nlpcc2018_format_sample.txt").read_bytes()


def test_force_replaces_its_own_previous_output(tmp_path):
    out = tmp_path / "out"
    assert prep(*sample_args(out)).returncode == 0
    first = json.loads((out / "prep.json").read_text())
    (out / "text" / "train.src").write_text("stale")  # must be replaced, not kept
    again = prep(*sample_args(out))
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "prep.json").read_text())["stats"] == first["stats"]
    assert (out / "text" / "train.src").read_text() != "stale"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
