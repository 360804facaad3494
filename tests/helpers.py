"""Helpers every test module shares (fixtures live in the ``conftest.py`` files).

Commands run with one thread (two cores are shared by everything on CI machines) and with the
project root first on ``PYTHONPATH``, so ``python -m export.generate`` and friends run this tree.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
# onnxruntime's optimized graphs and the integrity stamps go to a cache folder (export/session_cache.py);
# tests keep theirs out of the user's ~/.cache.
os.environ.setdefault("TLM_FAIRSEQ_CACHE", tempfile.mkdtemp(prefix="tlm-fairseq-test-cache-"))
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
PY = sys.executable
#: A 1+1-layer, width-32 transformer: trains in seconds on CPU (tests of the training path).
TINY_MODEL_ARGS = [
    "--encoder-layers", "1", "--decoder-layers", "1", "--encoder-embed-dim", "32", "--decoder-embed-dim", "32",
    "--encoder-ffn-embed-dim", "64", "--decoder-ffn-embed-dim", "64",
    "--encoder-attention-heads", "2", "--decoder-attention-heads", "2",
]


def run(args: list[Any], cwd: Path | None = None, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run a command with one thread; with ``check``, fail the test with its output if it fails."""
    proc = subprocess.run([str(a) for a in args], cwd=cwd or ROOT, env=kwargs.pop("env", ENV),
                          capture_output=True, text=True, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args[:3]} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def fairseq_cmd(name: str) -> list[str]:
    """``fairseq-<name>`` run by this interpreter (the venv's console scripts may not be on PATH)."""
    return [PY, "-m", f"fairseq_cli.{name}"]
