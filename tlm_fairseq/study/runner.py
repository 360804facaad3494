"""One study run: train to early stopping, generate with the best checkpoint, score, keep the result.

The checkpoints live in the harness's own work folder (marked as such) and are deleted once the
run is scored; what is kept in the study folder is small: ``result.json`` (settings, validation
curve, best update, whether the update cap was hit, headline scores), the hypotheses of each
scored split and their per-sentence sufficient statistics (for the paired bootstrap).
``result.json`` is written last, so its presence means the run is complete.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import tlm_fairseq
from tlm_fairseq.errors import UserError
from tlm_fairseq.files import write_text_atomic
from tlm_fairseq.generation_output import best_hypotheses

from .metrics import Gold, corpus_scores
from .protocol import Run

ROOT = Path(tlm_fairseq.__file__).resolve().parents[1]
WORK_MARKER = ".tlm-study-run"  # names a work folder as the harness's own (it may delete it)
RESULT = "result.json"
#: flags the harness sets itself; passing them after ``--`` would silently fight the protocol
OWNED_FLAGS = ("--max-update", "--patience", "--seed", "--save-dir", "--validate-interval-updates",
               "--save-interval-updates", "--validate-interval", "--save-interval", "--log-format", "--log-file",
               "--tlm-rate", "--tlm-mode", "--drophead-rate", "--attention-dropout", "--cpu",
               "--no-epoch-checkpoints", "--no-last-checkpoints", "--keep-interval-updates", "--user-dir")
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
#: turns fairseq's best hypothesis tokens of a split into the text that is scored
PostProcess = Callable[[str, list[list[str]]], list[str]]


def plain_text(split: str, hypotheses: list[list[str]]) -> list[str]:
    return [" ".join(tokens) for tokens in hypotheses]


@dataclass
class RunConfig:
    """Everything shared by the runs of one study."""

    data_bin: Path
    train_args: list[str]
    work: Path
    max_update: int = 4000
    patience: int = 4
    valid_every: int = 100
    device: str = "cpu"
    threads: int = 1
    generate_args: list[str] = field(default_factory=lambda: ["--beam", "1", "--max-len-a", "1.2", "--max-len-b", "10",
                                                              "--batch-size", "128"])
    gold: dict[str, Gold] = field(default_factory=dict)  # split name -> gold of that split
    post: PostProcess = plain_text

    def __post_init__(self) -> None:
        for arg in self.train_args:
            if arg.split("=", 1)[0] in OWNED_FLAGS:
                raise UserError(f"{arg.split('=', 1)[0]} is set by the harness; use its own option instead "
                                f"(--max-update, --patience, --valid-every, --device) or drop it")
        if self.max_update < self.valid_every:
            raise UserError(f"--max-update {self.max_update} is below --valid-every {self.valid_every}")
        if self.patience < 1:
            raise UserError("--patience must be at least 1 (early stopping is the point)")

    def env(self) -> dict[str, str]:
        env = {**os.environ, **{v: str(self.threads) for v in THREAD_VARS}}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        return env

    def describe(self) -> dict[str, object]:
        """The settings a resumed study must share with the runs already done."""
        return {"data_bin": str(self.data_bin), "train_args": self.train_args, "max_update": self.max_update,
                "patience": self.patience, "valid_every": self.valid_every, "generate_args": self.generate_args,
                "gold": {s: {"m2": g.m2_path, "ref": g.ref_path} for s, g in sorted(self.gold.items())}}


def parse_log(text: str) -> tuple[list[list[float]], bool]:
    """Validation curve ``[[updates, loss], ...]`` from a ``--log-format json`` log, and whether
    fairseq stopped early (patience exhausted) rather than at the update cap."""
    points: dict[int, float] = {}  # fairseq can log one validation twice
    for line in text.splitlines():
        start = line.find('{"')
        if start < 0 or '"valid_loss"' not in line:
            continue
        stats = json.loads(line[start:])
        points[int(float(stats["valid_num_updates"]))] = float(stats["valid_loss"])
    return [[u, loss] for u, loss in sorted(points.items())], "early stop since valid performance" in text


def prepare_work_dir(path: Path) -> None:
    """A fresh work folder; a leftover one is deleted only if the harness made it."""
    if path.exists():
        if not (path / WORK_MARKER).is_file():
            raise UserError(f"{path} exists and was not made by this harness; move it away or choose another --work")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / WORK_MARKER).write_text("made by tlm_fairseq.study; deleted when its run is redone\n")


def _call(cmd: Sequence[str], log: Path, cfg: RunConfig, what: str) -> None:
    with open(log, "w", encoding="utf-8") as out:
        code = subprocess.call(list(cmd), stdout=out, stderr=subprocess.STDOUT, env=cfg.env(), cwd=ROOT)
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        raise UserError(f"{what} failed (exit {code}); see {log}: " + " | ".join(tail))


def train(run: Run, cfg: RunConfig, work: Path) -> dict[str, object]:
    log_file = work / "train.log"
    cmd = [sys.executable, "-m", "fairseq_cli.train", str(cfg.data_bin.resolve()), "--user-dir", str(ROOT / "tlm_fairseq"),
           *cfg.train_args, *run.setting.flags(), "--seed", str(run.seed), "--save-dir", str(work / "checkpoints"),
           "--max-update", str(cfg.max_update), "--patience", str(cfg.patience),
           "--validate-interval-updates", str(cfg.valid_every), "--save-interval-updates", str(cfg.valid_every),
           "--validate-interval", "1000000", "--save-interval", "1000000", "--keep-interval-updates", "1",
           "--no-epoch-checkpoints", "--no-last-checkpoints", "--log-format", "json", "--log-file", str(log_file)]
    if cfg.device == "cpu":
        cmd.append("--cpu")
    start = time.monotonic()
    _call(cmd, work / "train.stdout.log", cfg, f"training {run.id}")
    seconds = time.monotonic() - start
    curve, early = parse_log(log_file.read_text(encoding="utf-8"))
    if not curve:
        raise UserError(f"training {run.id}: no validation in {log_file}")
    best_loss, best_update = min((loss, u) for u, loss in curve)
    return {"command": shlex.join(cmd), "curve": curve, "best_valid_loss": best_loss, "best_update": int(best_update),
            "last_update": int(curve[-1][0]), "early_stopped": early, "cap_hit": not early,
            "train_seconds": round(seconds, 1)}


def generate(run: Run, cfg: RunConfig, work: Path, split: str, expected: int) -> list[list[str]]:
    cmd = [sys.executable, "-m", "fairseq_cli.generate", str(cfg.data_bin.resolve()), "--user-dir", str(ROOT / "tlm_fairseq"),
           "--path", str(work / "checkpoints" / "checkpoint_best.pt"), "--gen-subset", split,
           "--required-batch-size-multiple", "1", *cfg.generate_args]
    if cfg.device == "cpu":
        cmd.append("--cpu")
    out = work / f"{split}.generate.txt"
    _call(cmd, out, cfg, f"generating {split} for {run.id}")
    with open(out, encoding="utf-8") as fh:
        return [h.tokens for h in best_hypotheses(fh, expected, str(out))]


def execute(run: Run, cfg: RunConfig, runs_dir: Path, splits: Sequence[str] = ("test",)) -> dict[str, object]:
    """Train, generate and score one run on ``splits`` (those with gold); write its files under
    ``runs_dir/<run id>``."""
    work = cfg.work / run.id
    prepare_work_dir(work)
    result: dict[str, object] = {"run": run.id, "setting": run.setting.name, "method": run.setting.method,
                                 "mode": run.setting.mode if run.setting.method == "tlm" else "",
                                 "rate": run.setting.rate, "seed": run.seed, "max_update": cfg.max_update,
                                 "patience": cfg.patience, "valid_every": cfg.valid_every}
    result.update(train(run, cfg, work))
    out = runs_dir / run.id
    scores: dict[str, dict[str, float]] = {}
    for split, gold in sorted(cfg.gold.items()):
        if split not in splits:
            continue
        hyps = cfg.post(split, generate(run, cfg, work, split, gold.size))
        stats, unmerged = gold.sentence_stats(hyps)
        write_text_atomic(out / f"{split}.hyp.txt", "".join(h + "\n" for h in hyps))
        write_text_atomic(out / f"{split}.stats.json", json.dumps(stats, separators=(",", ":")) + "\n")
        scores[split] = {**corpus_scores(stats), "m2_unmerged": unmerged}
    result["scores"] = scores
    write_text_atomic(out / RESULT, json.dumps(result, indent=1) + "\n")
    shutil.rmtree(work / "checkpoints", ignore_errors=True)
    return result
