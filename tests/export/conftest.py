"""Fixtures of the export / generation / serving tests: tiny trained models, their exports, a server.

The models are trained once per test session (session-scoped fixtures) and only when a test asks
for them; training a 2-layer model on 3000 pairs takes about half a minute on one CPU thread.
"""
from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from helpers import ENV, PY, ROOT, fairseq_cmd, run

CHARS = "我们你他她是的了在有不这个人来去学校老师朋友家天气很好喜欢吃饭看书写字"

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


@pytest.fixture(scope="session")
def cgec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny tlm_transformer (TLM + DropHead on) trained on the character task, and its export (with fp16)."""
    base = tmp_path_factory.mktemp("export_cgec")
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
    run([PY, "-m", "export.onnx_export", "--checkpoint", ckpt_dir / "checkpoint_last.pt", "--data", data,
         "--out", model_dir, "--fp16"])
    return {"data": data, "checkpoint": ckpt_dir / "checkpoint_last.pt", "test_raw": base / "test.raw",
            "valid_raw": base / "valid.raw", "model_dir": model_dir}


ROTOWIRE_MODEL = [
    "--task", "data_to_text", "--arch", "tlm_transformer_rotowire", "--encoder-layers", "1", "--decoder-layers", "1",
    "--encoder-embed-dim", "32", "--decoder-embed-dim", "32", "--encoder-ffn-embed-dim", "64",
    "--decoder-ffn-embed-dim", "64", "--encoder-attention-heads", "2", "--decoder-attention-heads", "2",
    "--max-tokens", "4000", "--max-source-positions", "64", "--max-target-positions", "512",
]


def train_rotowire(base: Path, test_games: int, seed: int, max_records: int, prep_args: list[str],
                   train_args: list[str]) -> dict[str, Path]:
    """Synthetic games (120 for training), tlm-prep-rotowire, a 1+1-layer width-32 model, its export."""
    from preprocess.rotowire.synth import generate_games, write_split

    games = base / "json"
    games.mkdir(parents=True)
    for split, count in (("train", 120), ("valid", 4), ("test", test_games)):
        write_split(games / f"{split}.json", generate_games(count, seed, split), count, progress=False)
    data = base / "bin"
    run([PY, "-m", "preprocess.rotowire", "--input-dir", games, "--dest", data, "--max-records", max_records,
         "--no-progress", *prep_args])
    ckpt_dir = base / "ckpt"
    run(fairseq_cmd("train") + [data, *ROTOWIRE_MODEL, *TRAIN_COMMON, "--save-dir", ckpt_dir, *train_args])
    model_dir = base / "onnx"
    run([PY, "-m", "export.onnx_export", "--checkpoint", ckpt_dir / "checkpoint_last.pt", "--data", data,
         "--out", model_dir, "--max-records", max_records])
    return {"data": data, "checkpoint": ckpt_dir / "checkpoint_last.pt", "games": games / "test.json",
            "model_dir": model_dir}


@pytest.fixture(scope="session")
def rotowire(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny tlm_transformer_rotowire trained on synthetic games, and its export."""
    return train_rotowire(tmp_path_factory.mktemp("export_rotowire"), 6, 1, 48, [],
                          ["--max-update", "60", "--criterion", "cross_entropy"])


@pytest.fixture(scope="session")
def rotowire_copy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny pointer-generator (``--copy``) model on synthetic games whose target vocabulary keeps only
    tokens seen 100 times (names and most numbers must be copied), and its export."""
    return train_rotowire(tmp_path_factory.mktemp("export_rotowire_copy"), 8, 2, 64, ["--threshold-tgt", "100"],
                          ["--copy", "--max-update", "80", "--criterion", "label_smoothed_cross_entropy_copy",
                           "--label-smoothing", "0.1"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _serving(command: list[str], model_dir: Path, *args: Any, startup: float = 60.0,
             env: dict[str, str] | None = None) -> Iterator[str]:
    import httpx

    port = free_port()
    proc = subprocess.Popen([*command, "--model-dir", str(model_dir), "--host", "127.0.0.1", "--port", str(port),
                             "--threads", "1", *map(str, args)],
                            cwd=ROOT, env=env or ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"tlm-serve exited with {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
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
        if proc.stdout:
            proc.stdout.close()


ServeFn = Callable[..., AbstractContextManager[str]]


@pytest.fixture(scope="session")
def serving() -> ServeFn:
    """``serving(model_dir, *args, command=[...], env=...)``: tlm-serve on a free loopback port; yields its URL.

    ``command`` defaults to this interpreter's ``python -m export.server`` (this working tree).
    """
    def start(model_dir: Path, *args: Any, command: list[str] | None = None, **kwargs: Any) -> AbstractContextManager[str]:
        return _serving(command or [sys.executable, "-m", "export.server"], model_dir, *args, **kwargs)

    return start
