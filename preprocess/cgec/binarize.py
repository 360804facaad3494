"""Binarize tokenized text splits with ``fairseq-preprocess`` into a joined-dictionary data-bin.

GEC source and target are the same language, so one dictionary serves both sides (required by
``--share-all-embeddings`` in the training recipe). The tool runs as ``python -m
fairseq_cli.preprocess`` with this interpreter so the venv's fairseq is used even when its
``bin/`` is not on ``PATH``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from tlm_fairseq.errors import UserError

SRC, TGT = "src", "tgt"


def binarize(
    text_dir: str | os.PathLike[str],
    dest_dir: str | os.PathLike[str],
    splits: Sequence[str],
    workers: int = 1,
    threshold: int = 0,
) -> None:
    """Run fairseq-preprocess on ``text_dir/{split}.{src,tgt}`` for ``splits`` (train first)."""
    if not splits or splits[0] != "train":
        raise ValueError("the first split must be 'train' (the dictionary is built from it)")
    text = Path(text_dir)
    cmd = [
        sys.executable, "-m", "fairseq_cli.preprocess",
        "--source-lang", SRC, "--target-lang", TGT,
        "--trainpref", str(text / "train"),
        "--destdir", str(dest_dir),
        "--joined-dictionary",
        "--workers", str(max(1, workers)),
        "--thresholdsrc", str(threshold), "--thresholdtgt", str(threshold),
    ]
    for split in splits[1:]:
        cmd += [f"--{split}pref", str(text / split)]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise UserError("fairseq-preprocess failed: " + " | ".join(tail))
