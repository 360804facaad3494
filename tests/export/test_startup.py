"""Start-up: integrity hashed once then checked by stat (a tampered file is still caught), the graph
probe remembered for unchanged exports, and onnxruntime's optimized graphs cached per machine."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import export.integrity as integrity
from export import session_cache
from export.errors import FileProblem
from export.generate import Generator
from export.model_dir import ModelDir


@pytest.fixture
def model(cgec, tmp_path, monkeypatch) -> Path:
    """A private copy of the tiny export and a private cache folder."""
    monkeypatch.setenv("TLM_FAIRSEQ_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(integrity.VERIFY_ENV, raising=False)
    copy = tmp_path / "model"
    shutil.copytree(cgec["model_dir"], copy)
    return copy


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Names of the files hashed (every stamp counts as settled, as it would a few seconds later)."""
    hashed: list[str] = []
    real = integrity.sha256_file
    monkeypatch.setattr(integrity, "sha256_file", lambda path: hashed.append(Path(path).name) or real(path))
    monkeypatch.setattr(integrity, "RACY_SECONDS", -1.0)
    return hashed


def flip_keeping_size_and_mtime(path: Path) -> None:
    st = os.stat(path)
    with open(path, "r+b") as fh:
        fh.seek(st.st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0x01]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # ctime still moves: utime cannot set it back
    assert os.stat(path).st_size == st.st_size and os.stat(path).st_mtime_ns == st.st_mtime_ns


def test_files_are_hashed_once_and_a_tampered_file_is_still_caught(model, hashes):
    files = listed(model)
    ModelDir.load(model)
    assert sorted(hashes) == sorted(files)
    hashes.clear()
    ModelDir.load(model)
    assert hashes == []  # nothing changed: a stat per file
    flip_keeping_size_and_mtime(model / "decoder.onnx.data")
    with pytest.raises(FileProblem, match=r"decoder\.onnx\.data: corrupt: its SHA-256 differs"):
        ModelDir.load(model)
    assert hashes == ["decoder.onnx.data"]


def test_a_stamp_from_the_last_seconds_is_not_trusted(model, monkeypatch):
    hashed: list[str] = []
    real = integrity.sha256_file
    monkeypatch.setattr(integrity, "sha256_file", lambda path: hashed.append(Path(path).name) or real(path))
    for _ in range(2):  # RACY_SECONDS is left as it is, and every file was changed just now
        for name in listed(model):
            os.utime(model / name)
        ModelDir.load(model)
    assert len(hashed) == 2 * len(listed(model))


def test_full_verification_on_request_and_an_unwritable_cache(model, hashes, monkeypatch):
    ModelDir.load(model)
    hashes.clear()
    monkeypatch.setenv(integrity.VERIFY_ENV, "full")
    ModelDir.load(model)
    assert sorted(hashes) == sorted(listed(model))
    monkeypatch.delenv(integrity.VERIFY_ENV)
    blocker = model.parent / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("TLM_FAIRSEQ_CACHE", str(blocker))
    hashes.clear()
    ModelDir.load(model)
    ModelDir.load(model)  # nothing can be remembered: every start hashes, none fails
    assert len(hashes) == 2 * len(listed(model))


def test_the_graph_probe_runs_once_per_unchanged_export(model, hashes, monkeypatch):
    import export.generate as generate

    probes: list[str] = []
    real = generate.check_graphs
    monkeypatch.setattr(generate, "check_graphs", lambda m, s: probes.append(s.precision) or real(m, s))
    Generator(model, device="cpu", threads=1)
    Generator(model, device="cpu", threads=1)
    assert probes == ["float32"]
    Generator(model, device="cpu", threads=1, precision="float16")
    assert probes == ["float32", "float16"]
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps(config, indent=1))  # same content, rewritten: probed again
    Generator(model, device="cpu", threads=1)
    assert probes == ["float32", "float16", "float32"]


def test_optimized_graphs_are_cached_verified_and_give_the_same_outputs(model, cgec, hashes, monkeypatch, caplog):
    sentences = cgec["test_raw"].read_text().splitlines()[:30]
    loads: list[str] = []
    real_load = session_cache._load_cached

    def spy(folder: Path, *args):  # noqa: ANN002, ANN202
        session = real_load(folder, *args)
        if session is not None:
            loads.append(folder.name)
        return session

    monkeypatch.setattr(session_cache, "_load_cached", spy)
    first = Generator(model, device="cpu", threads=1)  # builds the cache, then serves from it unverified
    assert loads == []  # (just written and hashed: not hashed again)
    entries = sorted((model.parent / "cache" / "onnxruntime").iterdir())
    assert len(entries) == 2 and all(json.loads((e / "manifest.json").read_text())["files"] for e in entries)
    # not from the session that built it, which keeps every weight in private memory while it lives
    assert {Path(s._model_path).parent for s in (first.sessions.encoder, first.sessions.decoder)} == set(entries)
    cached = Generator(model, device="cpu", threads=1)
    assert sorted(loads) == sorted(e.name for e in entries)
    assert [r.output for r in cached.generate(sentences, beam=3)] == [r.output for r in first.generate(sentences, beam=3)]
    flip_keeping_size_and_mtime(entries[0] / "graph.onnx.data")
    fallback = Generator(model, device="cpu", threads=1)  # the damaged entry is not used
    assert "optimized-graph cache" in caplog.text and "damaged" in caplog.text
    assert [r.output for r in fallback.generate(sentences, beam=3)] == [r.output for r in first.generate(sentences, beam=3)]


def listed(model: Path) -> list[str]:
    """The files config.json lists."""
    return list(json.loads((model / "config.json").read_text())["files"])


def test_the_cuda_probe_model_is_the_one_onnx_builds():
    from onnx import TensorProto, helper

    from export.runtime import _probe_model

    graph = helper.make_graph([helper.make_node("Add", ["x", "x"], ["y"])], "probe",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    assert _probe_model() == model.SerializeToString()


def test_the_cache_keeps_the_most_recently_used_graphs(tmp_path, monkeypatch):
    root = tmp_path / "onnxruntime"
    for i in range(5):
        (root / f"entry{i}").mkdir(parents=True)
        (root / f"entry{i}" / session_cache.MANIFEST).write_text("{}")
        os.utime(root / f"entry{i}" / session_cache.MANIFEST, ns=(i * 10**9, i * 10**9))
    (root / "not-ours").mkdir()
    monkeypatch.setattr(session_cache, "KEEP", 3)
    session_cache._evict(root)
    assert sorted(p.name for p in root.iterdir()) == ["entry2", "entry3", "entry4", "not-ours"]


def test_freed_memory_is_given_back_where_the_c_library_can():
    import platform

    from export.memory import give_back_freed_memory
    assert give_back_freed_memory() is (platform.libc_ver()[0] == "glibc")
