"""Markdown table of the runs of ``docs/rotowire-copy/run.sh``: one row per (system, seed), the
mean over seeds when there are several, and the references under the same proxies."""

import json
import statistics
import sys
from pathlib import Path

COLUMNS = (
    ("BLEU", "bleu", 2, 1), ("<unk> rate", "unk_rate", 1, 100), ("numbers / game", "numbers_per_game", 1, 1),
    ("number support", "number_share", 1, 100),
    ("relation precision (approx.)", "relation_precision", 1, 100), ("pairs / game", "relation_pairs_per_game", 1, 1),
    ("mean length", "mean_length", 1, 1),
)  # fmt: skip
SYSTEMS = (("copy0", "without --copy"), ("copy1", "with --copy"))


def mean(values: list) -> float | None:
    """Mean over seeds; None (n/a) if any seed has none."""
    return None if any(v is None for v in values) else statistics.mean(values)


def cell(value, digits: int, scale: float, percent: bool) -> str:
    return "n/a" if value is None else f"{value * scale:.{digits}f}{'%' if percent else ''}"


def main(work: Path) -> None:
    print("| system | seed | " + " | ".join(name for name, *_ in COLUMNS) + " | train+eval s |")
    print("|---" * (len(COLUMNS) + 3) + "|")
    reference = None
    for prefix, label in SYSTEMS:
        runs = sorted(work.glob(f"{prefix}-seed*/test.scores.json"))
        scores = [json.loads(p.read_text()) for p in runs]
        for path, score in zip(runs, scores):
            seed = path.parent.name.split("seed")[1]
            seconds = (path.parent / "seconds.txt").read_text().strip()
            cells = [cell(score[key], d, s, s == 100) for _, key, d, s in COLUMNS]
            print(f"| {label} | {seed} | " + " | ".join(cells) + f" | {seconds} |")
            reference = score
        if len(scores) > 1:
            cells = [cell(mean([s[key] for s in scores]), d, s_, s_ == 100) for _, key, d, s_ in COLUMNS]
            print(f"| {label} | mean | " + " | ".join(cells) + " | |")
    if reference is not None:
        print(
            f"| references (the proxies' ceiling) | | | | {cell(reference['reference_numbers_per_game'], 1, 1, False)} | "
            f"{cell(reference['reference_number_share'], 1, 100, True)} | "
            f"{cell(reference['reference_relation_precision'], 1, 100, True)} | "
            f"{cell(reference['reference_relation_pairs_per_game'], 1, 1, False)} | "
            f"{cell(reference['reference_mean_length'], 1, 1, False)} | |"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "work/rotowire-copy"))
