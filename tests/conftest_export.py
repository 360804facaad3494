"""Shared fixtures of the export / generation / serving tests: tiny trained models and helpers.

Test modules import the fixtures from here (``from conftest_export import ...``). Each artifact is
built once per test session even though several modules import the fixture: the builders cache
their result in this module, which Python imports only once.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("OMP_NUM_THREADS", "1")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}

CHARS = "我们你他她是的了在有不这个人来去学校老师朋友家天气很好喜欢吃饭看书写字"
_CACHE: dict[str, Any] = {}


def once(key: str, build: Callable[[], Any]) -> Any:
    if key not in _CACHE:
        _CACHE[key] = build()
    return _CACHE[key]


def run(args: list[Any], cwd: Path | None = None, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run a command with one thread; fail the test with its output if it fails."""
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=ENV, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(f"{args[:3]} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def fairseq_cmd(name: str) -> list[str]:
    return [sys.executable, "-m", f"fairseq_cli.{name}"]


def write_gec_corpus(folder: Path, sizes: dict[str, int], seed: int = 0) -> None:
    """A character-level 'correction' task: targets are random sentences, sources duplicate or drop a character."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in sizes.items():
        with open(folder / f"{split}.src", "w") as src, open(folder / f"{split}.tgt", "w") as tgt:
            for _ in range(count):
                target = [rng.choice(CHARS) for _ in range(rng.randint(4, 14))]
                source = list(target)
                if rng.random() < 0.5:
                    i = rng.randrange(len(source))
                    source.insert(i, source[i])
                if rng.random() < 0.3:
                    del source[rng.randrange(len(source))]
                src.write(" ".join(source) + "\n")
                tgt.write(" ".join(target) + "\n")


CGEC_MODEL = [
    "--arch", "tlm_transformer", "--tlm-rate", "0.1", "--drophead-rate", "0.1",
    "--encoder-layers", "2", "--decoder-layers", "2", "--encoder-embed-dim", "64", "--decoder-embed-dim", "64",
    "--encoder-ffn-embed-dim", "128", "--decoder-ffn-embed-dim", "128",
    "--encoder-attention-heads", "4", "--decoder-attention-heads", "4",
    "--share-all-embeddings", "--encoder-normalize-before", "--decoder-learned-pos",
]
TRAIN_COMMON = [
    "--user-dir", str(ROOT / "tlm_fairseq"), "--optimizer", "adam", "--lr", "3e-3", "--lr-scheduler", "inverse_sqrt",
    "--warmup-updates", "30", "--cpu", "--num-workers", "0", "--seed", "1", "--no-epoch-checkpoints",
    "--disable-validation", "--log-format", "simple", "--log-interval", "100", "--dropout", "0.1",
]


def build_cgec(base: Path) -> dict[str, Path]:
    raw = base / "raw"
    write_gec_corpus(raw, {"train": 3000, "valid": 20, "test": 200})
    data = base / "bin"
    run(fairseq_cmd("preprocess") + ["--source-lang", "src", "--target-lang", "tgt", "--trainpref", raw / "train",
                                     "--validpref", raw / "valid", "--testpref", raw / "test", "--destdir", data,
                                     "--joined-dictionary", "--workers", "1"])
    ckpt_dir = base / "ckpt"
    run(fairseq_cmd("train") + [data, *CGEC_MODEL, *TRAIN_COMMON, "--max-tokens", "2000", "--max-update", "150",
                                "--criterion", "label_smoothed_cross_entropy", "--label-smoothing", "0.1",
                                "--save-dir", ckpt_dir, "--max-source-positions", "64", "--max-target-positions", "64"])
    for split in ("valid", "test"):  # raw input for tlm-generate: the sentences without token spaces
        with open(raw / f"{split}.src") as src, open(base / f"{split}.raw", "w") as out:
            out.writelines(line.replace(" ", "").rstrip("\n") + "\n" for line in src)
    model_dir = base / "onnx"
    run([sys.executable, "-m", "export.onnx_export", "--checkpoint", ckpt_dir / "checkpoint_last.pt", "--data", data,
         "--out", model_dir, "--fp16"], cwd=ROOT)
    return {"data": data, "checkpoint": ckpt_dir / "checkpoint_last.pt", "test_raw": base / "test.raw",
            "valid_raw": base / "valid.raw", "model_dir": model_dir}


def build_rotowire(base: Path) -> dict[str, Path]:
    sys.path.insert(0, str(ROOT))
    from preprocess.rotowire.synth import generate_games, write_split

    games = base / "json"
    games.mkdir(parents=True)
    for split, count in (("train", 120), ("valid", 4), ("test", 6)):
        write_split(games / f"{split}.json", generate_games(count, 1, split), count, progress=False)
    data = base / "bin"
    run([sys.executable, "-m", "preprocess.rotowire", "--input-dir", games, "--dest", data, "--max-records", "48",
         "--no-progress"], cwd=ROOT)
    ckpt_dir = base / "ckpt"
    run(fairseq_cmd("train") + [
        data, "--task", "data_to_text", "--arch", "tlm_transformer_rotowire", "--encoder-layers", "1",
        "--decoder-layers", "1", "--encoder-embed-dim", "32", "--decoder-embed-dim", "32",
        "--encoder-ffn-embed-dim", "64", "--decoder-ffn-embed-dim", "64", "--encoder-attention-heads", "2",
        "--decoder-attention-heads", "2", *TRAIN_COMMON, "--max-tokens", "4000", "--max-update", "60",
        "--criterion", "cross_entropy", "--save-dir", ckpt_dir, "--max-source-positions", "64",
        "--max-target-positions", "512"])
    model_dir = base / "onnx"
    run([sys.executable, "-m", "export.onnx_export", "--checkpoint", ckpt_dir / "checkpoint_last.pt", "--data", data,
         "--out", model_dir, "--max-records", "48"], cwd=ROOT)
    return {"data": data, "checkpoint": ckpt_dir / "checkpoint_last.pt", "games": games / "test.json",
            "model_dir": model_dir}


@pytest.fixture(scope="session")
def cgec(tmp_path_factory) -> dict[str, Path]:
    """Tiny tlm_transformer (TLM + DropHead on) trained on the character task, and its export."""
    return once("cgec", lambda: build_cgec(tmp_path_factory.mktemp("export_cgec")))


@pytest.fixture(scope="session")
def rotowire(tmp_path_factory) -> dict[str, Path]:
    """Tiny tlm_transformer_rotowire trained on synthetic games, and its export."""
    return once("rotowire", lambda: build_rotowire(tmp_path_factory.mktemp("export_rotowire")))


def parse_fairseq_output(text: str) -> dict[int, list[tuple[float, str]]]:
    """``H-`` lines -> {sample id: [(natural-log score, token string), ...]} in fairseq's order."""
    hyps: dict[int, list[tuple[float, str]]] = {}
    for line in text.splitlines():
        if line.startswith("H-"):
            sid, score, tokens = line.split("\t")
            hyps.setdefault(int(sid[2:]), []).append((float(score) * math.log(2), tokens))
    return hyps


@contextmanager
def fixed_ngram_blocking() -> Iterator[None]:
    """fairseq 0.12's CPU n-gram blocker compares against the padded tail of the token buffer and
    blocks nothing (fairseq issues #4709, #5206); give it the generated prefix, as its CUDA kernel sees."""
    from fairseq import ngram_repeat_block

    cls = ngram_repeat_block.NGramRepeatBlock
    forward = cls.forward
    cls.forward = lambda self, tokens, lprobs, bsz, beam, step: forward(self, tokens[:, : step + 1], lprobs, bsz, beam, step)
    try:
        yield
    finally:
        cls.forward = forward


def fairseq_generate(data: Path, checkpoint: Path, *args: Any, task_args: tuple = (), fix_ngrams: bool = False,
                     subset: str = "test") -> dict[int, list[tuple[float, str]]]:
    """fairseq-generate's own ``main`` in this process (one fairseq import for the whole session)."""
    import tempfile

    import torch
    from fairseq import options
    from fairseq_cli import generate

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as results:
        argv = [data, "--user-dir", ROOT / "tlm_fairseq", "--path", checkpoint, "--cpu", "--gen-subset", subset,
                "--required-batch-size-multiple", "1", "--results-path", results, *task_args, *args]
        parsed = options.parse_args_and_arch(options.get_generation_parser(), [str(a) for a in argv])
        with fixed_ngram_blocking() if fix_ngrams else contextlib.nullcontext():
            generate.main(parsed)
        return parse_fairseq_output((Path(results) / f"generate-{subset}.txt").read_text())


def tlm_generate(model_dir: Path, inputs: Path, *args: Any) -> list[dict[str, Any]]:
    proc = run([sys.executable, "-m", "export.generate", "--model-dir", model_dir, "--input", inputs,
                "--output-format", "jsonl", "--threads", "1", *args], cwd=ROOT)
    return [json.loads(line) for line in proc.stdout.splitlines()]


def compare(reference: dict[int, list[tuple[float, str]]], ours: list[dict[str, Any]]) -> tuple[int, float, list]:
    """(identical inputs, max |score difference| over identical ones, differing examples)."""
    same, worst, diffs = 0, 0.0, []
    assert sorted(reference) == list(range(len(ours))), "fairseq and tlm-generate saw different inputs"
    for record in ours:
        ref = reference[record["index"]]
        hyps = record["hypotheses"]
        if [t for _, t in ref] == [h["tokens"] for h in hyps]:
            same += 1
            worst = max([worst] + [abs(s - h["score"]) for (s, _), h in zip(ref, hyps)])
        else:
            diffs.append((record["index"], ref, hyps))
    return same, worst, diffs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(model_dir: Path, *args: Any, startup: float = 60.0) -> Iterator[str]:
    """``tlm-serve`` in a subprocess on a free loopback port; yields its base URL."""
    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "export.server", "--model-dir", str(model_dir), "--host",
                             "127.0.0.1", "--port", str(port), "--threads", "1", *map(str, args)],
                            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"tlm-serve exited with {proc.returncode}: {proc.stdout.read()}")
            try:
                if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("tlm-serve did not come up")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
