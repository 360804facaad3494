"""Shared test fixtures: the project root and the real data beside it."""
import os
from pathlib import Path

import pytest

# Kept importable from here for old imports; test modules import it from helpers, because a module
# named "conftest" is whichever conftest.py pytest loaded last (tests/export/ has its own).
from helpers import TINY_MODEL_ARGS  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the project root; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (it ships beside the project in CI)")
    return SHARED_DATA


def write_reverse_corpus(folder: Path, sizes=(("train", 400), ("valid", 40), ("test", 20)), seed: int = 0) -> None:
    """A tiny character-level task (reverse the letters) that a 1-layer model learns in seconds."""
    import random

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in sizes:
        with open(folder / f"{split}.src", "w") as src, open(folder / f"{split}.tgt", "w") as tgt:
            for _ in range(n):
                word = [rng.choice("abcdefghij") for _ in range(rng.randint(3, 12))]
                src.write(" ".join(word) + "\n")
                tgt.write(" ".join(reversed(word)) + "\n")


@pytest.fixture(scope="session")
def reverse_data_bin(tmp_path_factory) -> Path:
    """A binarized fairseq data-bin of the reverse task."""
    import subprocess
    import sys

    raw = tmp_path_factory.mktemp("reverse_raw")
    write_reverse_corpus(raw)
    dest = raw / "bin"
    subprocess.run(
        [sys.executable, "-m", "fairseq_cli.preprocess", "--source-lang", "src", "--target-lang", "tgt",
         "--trainpref", raw / "train", "--validpref", raw / "valid", "--testpref", raw / "test",
         "--destdir", dest, "--joined-dictionary", "--workers", "1"],
        check=True, capture_output=True,
    )
    return dest

