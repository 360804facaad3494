#!/usr/bin/env python
"""Compare TLM with the baselines on one data-bin: a grid of configurations x seeds, one fairseq run
after another, then a CSV of every run, a markdown table (mean and standard deviation over seeds)
and a PNG of validation-loss curves.

Resumable: a run whose ``result.json`` exists is skipped, so an interrupted grid continues where it
stopped. Every fairseq-train flag after ``--`` is passed to every run (sizes, optimizer, budget).

    python scripts/compare_regularizers.py DATA_BIN --out runs/cmp --seeds 1 2 3 \
        -- --arch tlm_transformer_cgec --max-update 2000 --max-tokens 4096 ...
"""
import argparse
import csv
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]

# The regularizer of each configuration; everything else is shared by all runs.
CONFIGS: Dict[str, List[str]] = {
    "none": ["--tlm-rate", "0", "--attention-dropout", "0", "--drophead-rate", "0"],
    "attention-dropout": ["--tlm-rate", "0", "--attention-dropout", "0.1", "--drophead-rate", "0"],
    "drophead": ["--tlm-rate", "0", "--attention-dropout", "0", "--drophead-rate", "0.1"],
    "tlm-siblings": ["--tlm-rate", "0.1", "--tlm-mode", "siblings", "--attention-dropout", "0", "--drophead-rate", "0"],
    "tlm-self": ["--tlm-rate", "0.1", "--tlm-mode", "self", "--attention-dropout", "0", "--drophead-rate", "0"],
    "tlm-both": ["--tlm-rate", "0.1", "--tlm-mode", "both", "--attention-dropout", "0", "--drophead-rate", "0"],
}


@dataclass
class RunResult:
    config: str
    seed: int
    best_valid_loss: float
    best_valid_ppl: float
    num_updates: int
    curve: List[List[float]]  # [num_updates, valid_loss] per validation
    test_score: Optional[float] = None


def parse_valid_curve(log_text: str) -> List[List[float]]:
    """Validation points from a fairseq log written with ``--log-format json``: one JSON object per
    validation, alone on its line in ``--log-file`` (after a ``| valid |`` prefix on the console)."""
    points: Dict[float, float] = {}  # fairseq can log one validation more than once
    for line in log_text.splitlines():
        start = line.find('{"')
        if start < 0 or '"valid_loss"' not in line:
            continue
        stats = json.loads(line[start:])
        points[float(stats["valid_num_updates"])] = float(stats["valid_loss"])
    return [[updates, loss] for updates, loss in sorted(points.items())]


def atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def run_one(data_bin: str, run_dir: Path, config: str, seed: int, train_args: List[str],
            test_cmd: Optional[str]) -> RunResult:
    result_file = run_dir / "result.json"
    if result_file.is_file():
        return RunResult(**json.loads(result_file.read_text()))
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file = run_dir / "train.log"
    cmd = [
        sys.executable, "-m", "fairseq_cli.train", data_bin, "--user-dir", str(ROOT / "tlm_fairseq"),
        *train_args, *CONFIGS[config], "--seed", str(seed), "--save-dir", str(run_dir / "checkpoints"),
        "--log-format", "json", "--log-file", str(log_file), "--no-epoch-checkpoints", "--no-last-checkpoints",
    ]
    log_file.unlink(missing_ok=True)
    with open(run_dir / "stdout.log", "w") as out:
        code = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        raise SystemExit(f"run {config} seed {seed} failed (exit {code}); see {run_dir / 'stdout.log'}")
    curve = parse_valid_curve(log_file.read_text())
    if not curve:
        raise SystemExit(f"run {config} seed {seed}: no validation in {log_file}; is validation disabled?")
    best = min(loss for _, loss in curve)
    result = RunResult(config, seed, best, 2 ** best, int(curve[-1][0]), curve)
    if test_cmd:
        checkpoint = run_dir / "checkpoints" / "checkpoint_best.pt"
        command = test_cmd.format(checkpoint=shlex.quote(str(checkpoint)), run_dir=shlex.quote(str(run_dir)))
        output = subprocess.run(command, shell=True, capture_output=True, text=True)
        if output.returncode != 0:
            raise SystemExit(f"test command failed for {config} seed {seed}:\n{output.stderr[-2000:]}")
        numbers = re.findall(r"[-+]?\d+(?:\.\d+)?", output.stdout.strip().splitlines()[-1])
        if not numbers:
            raise SystemExit(f"test command for {config} seed {seed} printed no number on its last line")
        result.test_score = float(numbers[-1])
    atomic_write(result_file, json.dumps(result.__dict__))
    return result


def mean_std(values: List[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def write_reports(results: List[RunResult], out: Path, test_name: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=out, delete=False, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["config", "seed", "best_valid_loss", "best_valid_ppl", "num_updates", test_name])
        for r in results:
            writer.writerow([r.config, r.seed, f"{r.best_valid_loss:.4f}", f"{r.best_valid_ppl:.4f}", r.num_updates,
                             "" if r.test_score is None else f"{r.test_score:.4f}"])
    os.replace(f.name, out / "runs.csv")

    configs = [c for c in CONFIGS if any(r.config == c for r in results)]
    has_test = any(r.test_score is not None for r in results)
    header = "| configuration | seeds | best valid loss | best valid ppl |" + (f" {test_name} |" if has_test else "")
    lines = [header, "|" + " --- |" * (header.count("|") - 1)]
    for c in configs:
        rs = [r for r in results if r.config == c]
        row = f"| {c} | {len(rs)} | {mean_std([r.best_valid_loss for r in rs])} | {mean_std([r.best_valid_ppl for r in rs])} |"
        if has_test:
            row += f" {mean_std([r.test_score for r in rs if r.test_score is not None])} |"
        lines.append(row)
    atomic_write(out / "table.md", "\n".join(lines) + "\n")
    plot_curves(results, configs, out / "valid_loss.png")


def plot_curves(results: List[RunResult], configs: List[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for c in configs:
        runs = [r.curve for r in results if r.config == c]
        steps = sorted({int(u) for curve in runs for u, _ in curve})
        means = []
        for s in steps:
            values = [loss for curve in runs for u, loss in curve if int(u) == s]
            means.append(statistics.mean(values))
        ax.plot(steps, means, marker="o", markersize=3, label=f"{c} (n={len(runs)})")
    ax.set_xlabel("updates")
    ax.set_ylabel("validation loss (base 2), mean over seeds")
    ax.set_title("Validation loss per configuration")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_bin", help="binarized fairseq data (fairseq-preprocess output)")
    parser.add_argument("--out", required=True, type=Path, help="folder for runs, runs.csv, table.md, valid_loss.png")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS), metavar="NAME",
                        help=f"configurations to run (default: all of {', '.join(CONFIGS)})")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--test-cmd", help="shell command run on each best checkpoint; {checkpoint} and {run_dir} "
                                           "are filled in; the last number on its last output line is the test score")
    parser.add_argument("--test-name", default="test", help="column name of the test score (e.g. 'test F0.5')")
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    train_args = argv[split + 1:]  # fairseq-train arguments shared by all runs
    if not Path(args.data_bin).is_dir():
        parser.error(f"data-bin {args.data_bin} is not a directory")
    args.out.mkdir(parents=True, exist_ok=True)

    grid = [(c, s) for c in args.configs for s in args.seeds]
    results = []
    with tqdm(grid, desc="runs", unit="run") as bar:
        for config, seed in bar:
            bar.set_postfix_str(f"{config} seed {seed}")
            results.append(run_one(args.data_bin, args.out / f"{config}-seed{seed}", config, seed, train_args, args.test_cmd))
            write_reports(results, args.out, args.test_name)
    print((args.out / "table.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
