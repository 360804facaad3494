"""Export a trained copy model and compare tlm-generate with fairseq-generate on the test games.

    python docs/rotowire-copy/export_parity.py work/rotowire-copy copy1-seed1 [--beam 1 5] [--int8]

Reads ``WORK/RUN/checkpoints/checkpoint_best.pt`` and ``WORK/data-bin`` (written by ``run.sh``),
exports to ``WORK/RUN/onnx`` (replacing an earlier export of this script), runs both generators on
the test split with the same search options, and prints for each beam how many games got the same
best hypothesis (tokens), the largest score difference among those, and how many summaries hold a
value copied from outside the target vocabulary. ``--int8`` also exports int8 graphs (with the
agreement gate off: what is measured here is what the gate would refuse) and prints, per beam, how
many int8 summaries are identical to float32's and the BLEU of both against the references.
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
from tlm_fairseq.scoring.bleu import corpus_bleu  # noqa: E402


def run(cmd: list[str]) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, cwd=ROOT).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("run")
    parser.add_argument("--beam", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--max-len-b", type=int, default=200)
    parser.add_argument("--int8", action="store_true", help="also compare int8 graphs with float32")
    args = parser.parse_args()
    data, checkpoint = args.work / "data-bin", args.work / args.run / "checkpoints" / "checkpoint_best.pt"
    games = args.work / "json" / "test.json"
    model_dir = args.work / args.run / "onnx"
    int8 = ["--quantize", "int8", "--int8-min-identical", "0"] if args.int8 else []
    run([sys.executable, "-m", "export.onnx_export", "--checkpoint", checkpoint, "--data", data, "--out", model_dir,
         "--force", *int8])
    references = (data / "test.tgt.txt").read_text(encoding="utf-8").splitlines()
    vocabulary = {"<s>", "<pad>", "</s>", "<unk>"} | {
        line.split()[0] for line in (data / "dict.tgt.txt").read_text(encoding="utf-8").splitlines()}
    count = len(json.loads(games.read_text(encoding="utf-8")))
    for beam in args.beam:
        search = ["--beam", beam, "--max-len-b", args.max_len_b]
        printed = run([sys.executable, "-m", "fairseq_cli.generate", data, "--user-dir", ROOT / "tlm_fairseq",
                       "--task", "data_to_text", "--path", checkpoint, "--gen-subset", "test", "--cpu",
                       "--batch-size", "16", *search])
        reference = list(best_hypotheses(printed.splitlines(), count))
        ours = tlm_generate(model_dir, games, search)
        same = [(r, o) for r, o in zip(reference, ours) if r.text == o["hypotheses"][0]["tokens"]]
        worst = max((abs(r.natural_log_score - o["score"]) for r, o in same), default=0.0)
        copied = sum(any(t not in vocabulary for t in o["hypotheses"][0]["tokens"].split()) for o in ours)
        print(f"beam {beam}: {len(same)}/{count} identical best hypotheses (max |score difference| {worst:.1e}); "
              f"{copied}/{count} summaries copy a value from outside the target vocabulary")
        if args.int8:
            quantized = [o["hypotheses"][0]["tokens"] for o in tlm_generate(model_dir, games, search, "int8")]
            floats = [o["hypotheses"][0]["tokens"] for o in ours]
            same8 = sum(a == b for a, b in zip(quantized, floats))
            print(f"beam {beam} int8: {same8}/{count} summaries identical to float32's; BLEU against the references "
                  f"{corpus_bleu(quantized, references).score:.2f} (float32 {corpus_bleu(floats, references).score:.2f}); "
                  f"BLEU of int8 against float32 {corpus_bleu(quantized, floats).score:.1f}")


def tlm_generate(model_dir: Path, games: Path, search: list, precision: str = "float32") -> list[dict]:
    return [json.loads(line) for line in run([
        sys.executable, "-m", "export.generate", "--model-dir", model_dir, "--input", games, "--output-format",
        "jsonl", "--device", "cpu", "--batch-size", "10", "--precision", precision, *search]).splitlines()]


if __name__ == "__main__":
    main()
