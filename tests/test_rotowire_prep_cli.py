"""tlm-prep-rotowire's output contract: refuse an existing --dest without --force, replace only its
own previous output, build in a temporary folder and rename when complete, one-line errors."""

import hashlib
import json
import os
from pathlib import Path

import pytest

from preprocess.rotowire import prep
from preprocess.rotowire.synth import generate_games, write_split


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative name -> SHA-256), to show nothing was touched."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture()
def inputs(tmp_path: Path) -> Path:
    src = tmp_path / "json"
    src.mkdir()
    for split, count in (("train", 4), ("valid", 2), ("test", 2)):
        write_split(src / f"{split}.json", generate_games(count, 0, split), count, progress=False)
    return src


def prep_args(src: Path, dest: Path, *extra: str) -> list[str]:
    return ["--input-dir", str(src), "--dest", str(dest), "--no-progress", *extra]


def fails(argv: list[str], capsys) -> str:
    """Run the command expecting exit 2 with exactly one ``tlm-prep-rotowire: error:`` line."""
    capsys.readouterr()
    assert prep.main(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tlm-prep-rotowire: error: "), lines
    return lines[0].removeprefix("tlm-prep-rotowire: error: ")


def no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "temporary folder left behind"


def test_existing_output_is_refused_without_force_and_replaced_with_it(tmp_path, inputs, capsys):
    dest = tmp_path / "bin"
    assert prep.main(prep_args(inputs, dest)) == 0
    manifest = json.loads((dest / "prep.json").read_text())
    assert manifest["tool"] == "tlm-prep-rotowire" and manifest["splits"] == ["train", "valid", "test"]
    assert sorted(manifest["files"]) == sorted(p.name for p in dest.iterdir() if p.name != "prep.json")
    before = snapshot(dest)

    assert fails(prep_args(inputs, dest, "--max-records", "50"), capsys) == f"{dest} already exists (use --force to replace it)"
    assert snapshot(dest) == before

    assert prep.main(prep_args(inputs, dest, "--max-records", "50", "--force")) == 0
    lines = (dest / "train.value.txt").read_text().splitlines()
    assert [len(line.split()) for line in lines] == [50] * 4
    assert json.loads((dest / "prep.json").read_text())["max_records"] == 50
    no_leftovers(tmp_path)


def test_force_never_replaces_a_folder_holding_anything_else(tmp_path, inputs, capsys):
    dest = tmp_path / "bin"
    assert prep.main(prep_args(inputs, dest)) == 0
    (dest / "notes.txt").write_text("mine")  # a user's file inside a previous output
    before = snapshot(dest)
    assert "is not an output of this tool" in fails(prep_args(inputs, dest, "--force"), capsys)
    assert snapshot(dest) == before

    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("years of work")
    assert "is not an output of this tool" in fails(prep_args(inputs, other, "--force"), capsys)
    assert snapshot(other) == {"thesis.tex": hashlib.sha256(b"years of work").hexdigest()}

    cgec = tmp_path / "cgec"  # another tool's output with its own prep.json
    cgec.mkdir()
    (cgec / "prep.json").write_text(json.dumps({"bpe": "char", "files": ["prep.json"]}))
    assert "is not an output of this tool" in fails(prep_args(inputs, cgec, "--force"), capsys)
    assert (cgec / "prep.json").is_file()


def test_force_never_replaces_a_file_or_the_input(tmp_path, inputs, capsys):
    target = tmp_path / "data.bin"
    target.write_text("precious")
    assert fails(prep_args(inputs, target, "--force"), capsys) == f"--dest {target} exists and is not a folder"
    assert target.read_text() == "precious"

    before = snapshot(inputs)
    message = fails(prep_args(inputs, inputs, "--force"), capsys)
    assert message == f"--input-dir {inputs} lies inside --dest {inputs}; write the output elsewhere"
    assert fails(prep_args(inputs, tmp_path, "--force"), capsys).startswith(f"--input-dir {inputs} lies inside")
    assert snapshot(inputs) == before

    previous = tmp_path / "bin"
    assert prep.main(prep_args(inputs, previous)) == 0
    kept = snapshot(previous)
    link = tmp_path / "link"
    link.symlink_to(previous)  # a link to an output is not ours to replace
    assert fails(prep_args(inputs, link, "--force"), capsys) == f"--dest {link} exists and is not a folder"
    assert link.is_symlink() and snapshot(previous) == kept


def test_a_later_failure_keeps_the_previous_output_whole(tmp_path, inputs, capsys):
    """A bad valid.json is found after train.* is written: the old dest must not become a mix."""
    dest = tmp_path / "bin"
    assert prep.main(prep_args(inputs, dest)) == 0
    before = snapshot(dest)
    with open(inputs / "valid.json", "a") as handle:
        handle.write("[]\n")  # a second list after the first
    message = fails(prep_args(inputs, dest, "--force", "--max-records", "20"), capsys)
    assert message == f"{inputs / 'valid.json'}:2: unexpected content after the list of games: '[]\\n'"
    assert snapshot(dest) == before
    no_leftovers(tmp_path)


def test_a_failure_in_a_new_dest_leaves_nothing(tmp_path, inputs, capsys):
    (inputs / "test.json").write_text('[{"summary": ["x"]}]')
    dest = tmp_path / "new" / "bin"
    message = fails(prep_args(inputs, dest), capsys)
    assert message == f"{inputs / 'test.json'}:1: game 0: missing required key 'box_score'"
    assert not dest.exists()
    no_leftovers(tmp_path / "new")


@pytest.mark.parametrize(
    "content, message",
    [
        ("[]", "the list of games is empty"),
        ("  [ ]\n", "the list of games is empty"),
        (None, "none of its 3 game(s) has a summary"),
    ],
)
def test_an_empty_split_is_an_error(tmp_path, inputs, capsys, content, message):
    """``train.json`` = ``[]`` used to give an empty dataset and exit 0."""
    if content is None:
        games = list(generate_games(3, 0))
        for game in games:
            game["summary"] = []
        content = json.dumps(games)
    (inputs / "train.json").write_text(content)
    dest = tmp_path / "bin"
    assert fails(prep_args(inputs, dest), capsys) == f"{inputs / 'train.json'}: {message}"
    assert not dest.exists()


def test_dest_under_a_file_or_unwritable_is_one_line(tmp_path, inputs, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    dest = blocker / "bin"
    assert fails(prep_args(inputs, dest), capsys) == f"--dest {dest}: {blocker} is a file, not a folder"
    assert blocker.read_text() == "x"

    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        unwritable = locked / "bin"
    else:  # root ignores permission bits; sysfs refuses new folders even to root
        unwritable = Path("/sys/tlm-prep-rotowire-test")
        try:
            os.mkdir(unwritable)
        except OSError:
            pass
        else:
            os.rmdir(unwritable)
            pytest.skip("no folder here refuses writes to this user")
    message = fails(prep_args(inputs, unwritable), capsys)
    assert message.startswith(f"--dest {unwritable}: cannot write in {unwritable.parent}: ")
    assert not unwritable.exists()


def test_bad_dictionary_and_bad_split_names_are_one_line(tmp_path, inputs, capsys):
    dicts = tmp_path / "dicts"
    dicts.mkdir()
    assert fails(prep_args(inputs, tmp_path / "b", "--splits", "test", "--dict-dir", str(dicts)), capsys) == (
        f"{dicts / 'dict.value.txt'}: not found (--dict-dir needs the dict.*.txt of an earlier run)"
    )
    for name in ("value", "entity", "type", "ha", "tgt"):
        (dicts / f"dict.{name}.txt").write_text("a 1\nb\n")
    message = fails(prep_args(inputs, tmp_path / "b", "--splits", "test", "--dict-dir", str(dicts)), capsys)
    assert message == f"{dicts / 'dict.value.txt'}:2: not a fairseq dictionary line ('<token> <count>'): 'b'"
    for name in ("value", "entity", "type", "ha", "tgt"):
        (dicts / f"dict.{name}.txt").write_text("a 1\na 2\n")
    message = fails(prep_args(inputs, tmp_path / "b", "--splits", "test", "--dict-dir", str(dicts)), capsys)
    assert message == f"{dicts / 'dict.value.txt'}: Duplicate word found when loading Dictionary: 'a'"
    assert "--splits: '../x' is not a plain split name" in fails(prep_args(inputs, tmp_path / "c", "--splits", "../x"), capsys)
    assert fails(prep_args(inputs, tmp_path / "c", "--splits", "valid"), capsys) == (
        "without --dict-dir the 'train' split is needed to build the dictionaries"
    )
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()
