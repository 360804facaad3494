"""A model directory whose config.json contradicts its graphs is refused at load, in one line naming
the key; tlm-export verifies the checkpoint archive and records its SHA-256; tlm-generate checks its
output paths before it loads the model."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from export.errors import ConfigProblem
from export.generate import Generator
from helpers import PY, run


def variant(source: Path, dest: Path, edit: Callable[[dict[str, Any], Path], None]) -> Path:
    """A copy of the export ``source`` with ``edit(config, folder)`` applied and checksums recomputed."""
    shutil.copytree(source, dest)
    config = json.loads((dest / "config.json").read_text())
    edit(config, dest)
    config["files"] = {name: hashlib.sha256((dest / name).read_bytes()).hexdigest() for name in config["files"]}
    (dest / "config.json").write_text(json.dumps(config))
    return dest


def set_key(dotted: str, value: Any) -> Callable[[dict[str, Any], Path], None]:
    def edit(config: dict[str, Any], folder: Path) -> None:
        *parents, last = dotted.split(".")
        for part in parents:
            config = config[part]
        config[last] = value
    return edit


def grow_dictionary(name: str, key: str) -> Callable[[dict[str, Any], Path], None]:
    """One more symbol in a dictionary and the matching vocabulary size: consistent, but not with the graph."""
    def edit(config: dict[str, Any], folder: Path) -> None:
        with open(folder / name, "a") as handle:
            handle.write("extra_symbol 1\n")
        config["dims"][key] += 1
    return edit


TEXT_CASES = [
    (set_key("dims.heads", 8), "dims.embed_dim", "64 is not dims.heads x dims.head_dim = 8 x 16"),
    (lambda c, f: c["dims"].update(heads=8, head_dim=8), "dims.heads", "8, but encoder.onnx's cross_key_0 has 4 heads"),
    (lambda c, f: c["dims"].update(heads=2, head_dim=32), "dims.heads", "2, but encoder.onnx's cross_key_0 has 4 heads"),
    (set_key("max_source_positions", 500), "max_source_positions",
     "500, but encoder.onnx fails on a source that long (its position table is shorter): indices element out of data bounds"),
    (set_key("max_target_positions", 100), "max_target_positions",
     "100, but decoder.inplace.onnx fails at position 99 (its position table is shorter)"),  # the CPU decoder
    (grow_dictionary("dict.target.txt", "target_vocab"), "dims.target_vocab", "41, but decoder.inplace.onnx scores 40 symbols"),
    (grow_dictionary("dict.source.txt", "source_vocab"), "dims.source_vocab",
     "encoder.onnx cannot embed the largest source id of each dictionary"),
    (set_key("dims.heads", "4"), "dims.heads", "expected an integer, got a string ('4')"),
    (set_key("checkpoint_sha256", "nope"), "checkpoint_sha256", "not a SHA-256 hex digest"),
    (lambda c, f: c.pop("tokenizer"), "tokenizer", "missing key 'tokenizer'"),
    (set_key("tokenizer.kind", "bpe"), "tokenizer.kind", "expected one of"),
    (set_key("graphs.float32.decoder", "../onnx/decoder.onnx"), "graphs.float32.decoder", "is not a file name inside"),
]


@pytest.mark.parametrize("edit,key,message", TEXT_CASES, ids=[c[1] + str(i) for i, c in enumerate(TEXT_CASES)])
def test_config_contradicting_the_graphs_is_refused_at_load(cgec, tmp_path, edit, key, message):
    folder = variant(cgec["model_dir"], tmp_path / "model", edit)
    with pytest.raises(ConfigProblem) as err:
        Generator(folder, device="cpu", threads=1)
    assert err.value.key == key and str(err.value).startswith(f"{folder / 'config.json'}: ")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_graph_of_the_other_task_is_refused(cgec, rotowire, tmp_path):
    text = json.loads((cgec["model_dir"] / "config.json").read_text())

    def text_graphs(config: dict[str, Any], folder: Path) -> None:
        """The text model's float32 graphs (with any external weight files) in place of the record model's."""
        def graph_files(files: dict[str, str]) -> list[str]:
            return [name for name in files if name.startswith(("encoder", "decoder"))]

        for name in graph_files(config["files"]):
            (folder / name).unlink()
            del config["files"][name]
        for name in graph_files(text["files"]):
            shutil.copyfile(cgec["model_dir"] / name, folder / name)
            config["files"][name] = ""
        config["graphs"] = {"float32": text["graphs"]["float32"]}
        config["dims"].update({k: text["dims"][k] for k in ("encoder_layers", "decoder_layers", "heads", "head_dim",
                                                            "embed_dim")})

    folder = variant(rotowire["model_dir"], tmp_path / "model", text_graphs)
    with pytest.raises(ConfigProblem) as err:
        Generator(folder, device="cpu", threads=1)
    assert err.value.key == "task" and "encoder.onnx reads text (token) sources" in str(err.value), err.value


def test_records_kept_beyond_the_positions_are_refused(rotowire, tmp_path):
    folder = variant(rotowire["model_dir"], tmp_path / "model", set_key("source.max_records", 65))
    with pytest.raises(ConfigProblem, match=r"key 'source.max_records': 65 is outside \[1, max_source_positions = 64\]"):
        Generator(folder, device="cpu", threads=1)


def test_serve_refuses_to_start_on_a_contradicting_config(cgec, tmp_path):
    folder = variant(cgec["model_dir"], tmp_path / "model", set_key("max_target_positions", 100))
    proc = run([PY, "-m", "export.server", "--model-dir", folder, "--port", "1"], check=False, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert errors == [f"tlm-serve: error: {folder / 'config.json'}: key 'max_target_positions': 100, but decoder.inplace.onnx "
                      "fails at position 99 (its position table is shorter): indices element out of data bounds, "
                      "idx=101 must be within the inclusive range [-66,65]"]


def test_export_records_the_checkpoint_sha256(cgec):
    config = json.loads((cgec["model_dir"] / "config.json").read_text())
    assert config["checkpoint_sha256"] == hashlib.sha256(cgec["checkpoint"].read_bytes()).hexdigest()


def test_export_refuses_a_checkpoint_with_corrupted_weights(cgec, tmp_path):
    bad = tmp_path / "checkpoint.pt"
    shutil.copyfile(cgec["checkpoint"], bad)
    with zipfile.ZipFile(bad) as archive:  # the largest stored member: a weight tensor
        member = max(archive.infolist(), key=lambda m: m.file_size)
    assert member.compress_type == zipfile.ZIP_STORED
    with open(bad, "r+b") as handle:
        handle.seek(member.header_offset + 30 + len(member.filename.encode()) + len(member.extra) + member.file_size // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0xFF]))
    proc = run([PY, "-m", "export.onnx_export", "--checkpoint", bad, "--data", cgec["data"], "--out", tmp_path / "out"],
               check=False, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (f"tlm-export: error: {bad}: cannot read checkpoint (member "
                                                    f"{member.filename} fails its CRC check: the file is corrupted)")
    assert not (tmp_path / "out").exists()


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (root ignores permissions: sysfs refuses it too)."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


@pytest.mark.parametrize("case", ["folder", "under_file", "unwritable", "same_file"])
def test_generate_checks_outputs_before_loading_the_model(tmp_path, case):
    (tmp_path / "file").write_text("keep\n")
    args = {
        "folder": ["--output", tmp_path],
        "under_file": ["--output", tmp_path / "file" / "out.txt"],
        "unwritable": ["--stats-json", unwritable_folder(tmp_path) / "stats.json"],
        "same_file": ["--output", tmp_path / "o.txt", "--stats-json", tmp_path / "o.txt"],
    }[case]
    message = {
        "folder": f"{tmp_path}: --output names a folder; give a file name",
        "under_file": f"{tmp_path / 'file' / 'out.txt'}: --output: {tmp_path / 'file'} is a file, not a folder",
        "unwritable": f"{args[1]}: --stats-json: cannot write in {args[1].parent}: ",
        "same_file": f"{tmp_path / 'o.txt'}: --output and --stats-json name the same file",
    }[case]
    # the model directory does not exist: the output check must come first
    proc = run([PY, "-m", "export.generate", "--model-dir", tmp_path / "no-model", "--input", tmp_path / "file", *args],
               check=False, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith(f"tlm-generate: error: {message}"), proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and (tmp_path / "file").read_text() == "keep\n"


def test_generate_creates_missing_output_folders(cgec, tmp_path):
    stats = tmp_path / "new" / "deeper" / "stats.json"
    out = tmp_path / "other" / "out.txt"
    run([PY, "-m", "export.generate", "--model-dir", cgec["model_dir"], "--input", cgec["valid_raw"], "--output", out,
         "--stats-json", stats, "--beam", "2", "--threads", "1"], timeout=300)
    assert json.loads(stats.read_text())["sentences"] == 20
    assert len(out.read_text().split("\n")) == 21
