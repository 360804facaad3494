#!/usr/bin/env python
"""Generate Rotowire summaries for a split and score them: BLEU plus simple content statistics.

Hypotheses come from one of: a checkpoint (``--path``: runs fairseq-generate; options after a
lone ``--`` go to it), a saved fairseq-generate log (``--generate-output``), or a plain file with
one summary per line in input order (``--hyps``). fairseq-generate prints games in batch order;
the ``H-<id>`` ids put them back in input order. References default to the tokenized summaries
``tlm-prep-rotowire`` wrote (``{split}.tgt.txt``); raw text (``--raw-refs`` / ``--raw-hyps``) is
tokenized like the dataset.

Prints, per output, its length and how many of its numbers are values of the game's records, then
BLEU with ``--tokenize none`` (the multi-bleu figure Rotowire papers report) and with 13a, each
with its sacrebleu signature.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from tlm_fairseq.scoring.bleu import content_stats, corpus_bleu, treebank_tokenize  # noqa: E402

_HYPOTHESIS = re.compile(r"^H-(\d+)\t[^\t]*\t?(.*)$")


def read_lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle]


def parse_generate_output(path: Path, expected: int) -> list[str]:
    """Best hypothesis per ``H-<id>`` line, in input order; every id 0..expected-1 exactly once."""
    hypotheses: dict[int, str] = {}
    for line in read_lines(path):
        match = _HYPOTHESIS.match(line)
        if match is None:
            continue
        index = int(match.group(1))
        if index >= expected:
            raise ValueError(f"{path}: hypothesis H-{index} but the split has {expected} games")
        hypotheses.setdefault(index, match.group(2).strip())  # with --nbest > 1 the first is the best
    missing = [i for i in range(expected) if i not in hypotheses]
    if missing:
        raise ValueError(
            f"{path}: no hypothesis for {len(missing)} of {expected} games (first: H-{missing[0]})"
        )
    return [hypotheses[i] for i in range(expected)]


def run_generate(args: argparse.Namespace, results: Path) -> Path:
    """fairseq-generate on the split; returns its output file."""
    command = [
        sys.executable, "-m", "fairseq_cli.generate", str(args.data),
        "--user-dir", str(ROOT / "tlm_fairseq"), "--task", "data_to_text", "--path", str(args.path),
        "--gen-subset", args.split, "--beam", str(args.beam), "--max-len-a", "0",
        "--max-len-b", str(args.max_len_b), "--batch-size", str(args.batch_size),
        "--results-path", str(results),
    ]  # fmt: skip
    command += args.gen_args
    print("running:", shlex.join(command), file=sys.stderr, flush=True)
    subprocess.run(command, check=True)
    return results / f"generate-{args.split}.txt"


def evaluate(
    hypotheses: Sequence[str], references: Sequence[str], record_values: Sequence[str], quiet: bool
) -> dict[str, float]:
    """Print per-output statistics and BLEU; return the headline numbers."""
    if not len(hypotheses) == len(references) == len(record_values):
        raise ValueError(
            f"{len(hypotheses)} hypotheses, {len(references)} references, {len(record_values)} record lines"
        )
    numbers = supported = length = 0
    if not quiet:
        print("id\tlength\tnumbers\tin_records\tshare")
    for index, (hypothesis, values) in enumerate(zip(hypotheses, record_values)):
        stats = content_stats(hypothesis.split(), values.split())
        numbers, supported, length = (
            numbers + stats.numbers,
            supported + stats.supported,
            length + stats.length,
        )
        if not quiet:
            share = "n/a" if stats.share is None else f"{stats.share:.3f}"
            print(f"{index}\t{stats.length}\t{stats.numbers}\t{stats.supported}\t{share}")
    games = len(hypotheses)
    reference_length = sum(len(r.split()) for r in references) / max(games, 1)
    print(
        f"games: {games}  mean length: {length / max(games, 1):.1f} tokens (references: {reference_length:.1f})"
    )
    share = supported / numbers if numbers else float("nan")
    percent = f"{100 * share:.1f}%" if numbers else "n/a"
    print(f"numbers found among the game's record values: {supported}/{numbers} ({percent})")
    none = corpus_bleu(hypotheses, references, "none")
    print(f"BLEU (tokenized text, --tokenize none) = {none.score:.2f}  [{none.text}]")
    print(f"  signature: {none.signature}")
    thirteen = corpus_bleu(hypotheses, references, "13a")
    print(f"BLEU (--tokenize 13a) = {thirteen.score:.2f}  [{thirteen.text}]")
    print(f"  signature: {thirteen.signature}")
    return {
        "bleu": none.score,
        "bleu_13a": thirteen.score,
        "number_share": share,
        "mean_length": length / max(games, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, required=True, help="data-bin folder written by tlm-prep-rotowire"
    )
    parser.add_argument("--split", default="test")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--path", type=Path, help="checkpoint: run fairseq-generate")
    source.add_argument("--generate-output", type=Path, help="a saved fairseq-generate log")
    source.add_argument("--hyps", type=Path, help="one summary per line, in input order")
    parser.add_argument(
        "--raw-hyps", action="store_true", help="tokenize --hyps with the Treebank tokenizer first"
    )
    parser.add_argument("--refs", type=Path, help="references, one per line (default: DATA/SPLIT.tgt.txt)")
    parser.add_argument(
        "--raw-refs", action="store_true", help="tokenize --refs with the Treebank tokenizer first"
    )
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--max-len-b", type=int, default=1000, help="max summary length in tokens")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--results-path", type=Path, help="keep the fairseq-generate log here")
    parser.add_argument("--output", type=Path, help="write the hypotheses here, in input order")
    parser.add_argument("--quiet", action="store_true", help="no per-output lines")
    parser.epilog = "Options after a lone '--' go to fairseq-generate, e.g. '-- --cpu --lenpen 1.2'."
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    args.gen_args = argv[cut + 1 :]

    references = read_lines(args.refs or args.data / f"{args.split}.tgt.txt")
    if args.raw_refs:
        references = [" ".join(treebank_tokenize(r)) for r in references]
    record_values = read_lines(args.data / f"{args.split}.value.txt")
    try:
        if args.hyps:
            hypotheses = read_lines(args.hyps)
            if args.raw_hyps:
                hypotheses = [" ".join(treebank_tokenize(h)) for h in hypotheses]
        elif args.generate_output:
            hypotheses = parse_generate_output(args.generate_output, len(record_values))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                results = args.results_path or Path(tmp)
                hypotheses = parse_generate_output(run_generate(args, results), len(record_values))
        if args.output:
            tmp = args.output.with_name(args.output.name + ".tmp")
            tmp.write_text("".join(h + "\n" for h in hypotheses), encoding="utf-8")
            tmp.replace(args.output)
        evaluate(hypotheses, references, record_values, args.quiet)
    except (ValueError, subprocess.CalledProcessError) as err:
        print(f"eval_rotowire: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
