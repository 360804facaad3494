"""Export a trained copy model and compare tlm-generate with fairseq-generate on the test games.

    python docs/rotowire-copy/export_parity.py work/rotowire-copy copy1-seed1 [--beam 1 5]

Reads ``WORK/RUN/checkpoints/checkpoint_best.pt`` and ``WORK/data-bin`` (written by ``run.sh``),
exports to ``WORK/RUN/onnx`` (replacing an earlier export of this script), runs both generators on
the test split with the same search options, and prints for each beam how many games got the same
best hypothesis (tokens), the largest score difference among those, and how many summaries hold a
value copied from outside the target vocabulary.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tlm_fairseq.generation_output import best_hypotheses  # noqa: E402


def run(cmd: list[str]) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, cwd=ROOT).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("run")
    parser.add_argument("--beam", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--max-len-b", type=int, default=200)
    args = parser.parse_args()
    data, checkpoint = args.work / "data-bin", args.work / args.run / "checkpoints" / "checkpoint_best.pt"
    games = args.work / "json" / "test.json"
    model_dir = args.work / args.run / "onnx"
    run([sys.executable, "-m", "export.onnx_export", "--checkpoint", checkpoint, "--data", data, "--out", model_dir,
         "--force"])
    vocabulary = {"<s>", "<pad>", "</s>", "<unk>"} | {
        line.split()[0] for line in (data / "dict.tgt.txt").read_text(encoding="utf-8").splitlines()}
    count = len(json.loads(games.read_text(encoding="utf-8")))
    for beam in args.beam:
        search = ["--beam", beam, "--max-len-b", args.max_len_b]
        printed = run([sys.executable, "-m", "fairseq_cli.generate", data, "--user-dir", ROOT / "tlm_fairseq",
                       "--task", "data_to_text", "--path", checkpoint, "--gen-subset", "test", "--cpu",
                       "--batch-size", "16", *search])
        reference = list(best_hypotheses(printed.splitlines(), count))
        ours = [json.loads(line) for line in run([
            sys.executable, "-m", "export.generate", "--model-dir", model_dir, "--input", games, "--output-format",
            "jsonl", "--device", "cpu", "--batch-size", "10", *search]).splitlines()]
        same = [(r, o) for r, o in zip(reference, ours) if r.text == o["hypotheses"][0]["tokens"]]
        worst = max((abs(r.natural_log_score - o["score"]) for r, o in same), default=0.0)
        copied = sum(any(t not in vocabulary for t in o["hypotheses"][0]["tokens"].split()) for o in ours)
        print(f"beam {beam}: {len(same)}/{count} identical best hypotheses (max |score difference| {worst:.1e}); "
              f"{copied}/{count} summaries copy a value from outside the target vocabulary")


if __name__ == "__main__":
    main()
