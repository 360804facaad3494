"""Generate Rotowire summaries for a split and score them: BLEU plus simple content statistics.

Hypotheses come from one of: a checkpoint (``--path``: runs fairseq-generate; options after a
lone ``--`` go to it), a saved fairseq-generate log (``--generate-output``), or a plain file with
one summary per line in input order (``--hyps``). fairseq-generate prints games in batch order;
the ``H-<id>`` ids put them back in input order. References default to the tokenized summaries
``tlm-prep-rotowire`` wrote (``{split}.tgt.txt``); raw text (``--raw-refs`` / ``--raw-hyps``) is
tokenized like the dataset.

Prints, per output, its length and how many of its numbers are values of the game's records, then
the record-support report (share of ``<unk>`` tokens, of numbers found among the game's record
values, and the approximate relation precision of ``record_support``, for the outputs and, as the
proxies' ceiling, for the references), then BLEU with ``--tokenize none`` (the multi-bleu figure
Rotowire papers report) and with 13a, each with its sacrebleu signature; ``--json`` keeps the
headline numbers. Torch-free: fairseq runs in a subprocess, so scoring a file of
hypotheses needs neither torch nor fairseq. ``scripts/eval_rotowire.py`` is the command.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..cli import CliParser, run_cli
from ..errors import InputError, UserError
from ..files import iter_lines, write_text_atomic
from ..generation_output import best_hypotheses
from .bleu import NUMBER, content_stats, corpus_bleu, treebank_tokenize
from .record_support import UNK, GameRecords, SupportStats, record_support

PROG = "eval_rotowire"
USER_DIR = Path(__file__).resolve().parents[1]  # the tlm_fairseq package: fairseq's --user-dir


def read_texts(path: Path) -> list[str]:
    """One text per line (``\\n`` only splits; strict UTF-8 with ``FILE:LINE`` errors)."""
    return [text for _, text in iter_lines(path)]


def read_generate_output(path: Path, expected: int) -> list[str]:
    """The best hypothesis of each game 0..expected-1 of a fairseq-generate log, in input order."""
    lines = (text for _, text in iter_lines(path))
    return [hyp.text.strip() for hyp in best_hypotheses(lines, expected, source=str(path))]


def generate_command(args: argparse.Namespace, results: Path) -> list[str]:
    """fairseq-generate on ``args.split`` of ``args.data`` with ``args.path``, log in ``results``."""
    return [
        sys.executable, "-m", "fairseq_cli.generate", str(args.data),
        "--user-dir", str(USER_DIR), "--task", "data_to_text", "--path", str(args.path),
        "--gen-subset", args.split, "--beam", str(args.beam), "--max-len-a", "0",
        "--max-len-b", str(args.max_len_b), "--batch-size", str(args.batch_size),
        "--results-path", str(results), *args.gen_args,
    ]  # fmt: skip


def run_generate(args: argparse.Namespace, results: Path) -> Path:
    """Run fairseq-generate (its own output goes to the terminal); returns its log file."""
    command = generate_command(args, results)
    print("running:", shlex.join(command), file=sys.stderr, flush=True)
    status = subprocess.run(command).returncode
    if status != 0:
        raise UserError(f"fairseq-generate failed with exit status {status} (its messages are above)")
    return results / f"generate-{args.split}.txt"


def _percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else f"{part}/{whole} (n/a)"


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def _support(texts: Sequence[str], games: Sequence[GameRecords] | None) -> SupportStats | None:
    if games is None:
        return None
    total = SupportStats(0, 0, 0, 0, 0, 0)
    for text, game in zip(texts, games):
        total = total + record_support(text.split(), game)
    return total


def evaluate(
    hypotheses: Sequence[str],
    references: Sequence[str],
    record_values: Sequence[str],
    quiet: bool = False,
    games: Sequence[GameRecords] | None = None,
) -> dict[str, float]:
    """Print per-output statistics, the record-support report and BLEU; return the headline numbers.

    ``games`` (each game's records with entities and types) enables the approximate relation
    precision of :mod:`tlm_fairseq.scoring.record_support`, reported for the references too.
    """
    if not len(hypotheses) == len(references) == len(record_values):
        raise UserError(
            f"{len(hypotheses)} hypotheses, {len(references)} references, {len(record_values)} record lines"
        )
    if not hypotheses:
        raise UserError("no games to score")
    if games is not None and len(games) != len(hypotheses):
        raise UserError(f"{len(games)} games of records for {len(hypotheses)} hypotheses")
    numbers = supported = length = unk = 0
    if not quiet:
        print("id\tlength\tnumbers\tin_records\tshare")
    for index, (hypothesis, values) in enumerate(zip(hypotheses, record_values)):
        tokens = hypothesis.split()
        stats = content_stats(tokens, values.split())
        numbers, supported, length = numbers + stats.numbers, supported + stats.supported, length + stats.length
        unk += sum(t == UNK for t in tokens)
        if not quiet:
            share = "n/a" if stats.share is None else f"{stats.share:.3f}"
            print(f"{index}\t{stats.length}\t{stats.numbers}\t{stats.supported}\t{share}")
    games_count = len(hypotheses)
    reference_length = sum(len(r.split()) for r in references) / games_count
    print(f"games: {games_count}  mean length: {length / games_count:.1f} tokens (references: {reference_length:.1f})")
    print(f"<unk> in the outputs: {_percent(unk, length)} of tokens")
    share = _ratio(supported, numbers)
    print(f"numbers found among the game's record values: {_percent(supported, numbers)}")
    reference_numbers = sum(bool(NUMBER.match(t)) for r in references for t in r.split())
    results = {"games": games_count, "mean_length": length / games_count, "reference_mean_length": reference_length,
               "unk_rate": _ratio(unk, length), "number_share": share, "numbers_per_game": numbers / games_count,
               "reference_numbers_per_game": reference_numbers / games_count}  # fmt: skip
    hyp_support, ref_support = _support(hypotheses, games), _support(references, games)
    if hyp_support is None or ref_support is None:
        print("relation precision: n/a (needs the split's entity.txt and type.txt)")
    else:
        print(
            f"relation precision (approximate; entity-number pairs backed by a record of that entity): "
            f"{_percent(hyp_support.supported_pairs, hyp_support.pairs)}, "
            f"{hyp_support.pairs / games_count:.1f} pairs per game"
        )
        print(
            f"  the references under the same proxies: numbers {_percent(ref_support.supported_numbers, ref_support.numbers)}, "
            f"relations {_percent(ref_support.supported_pairs, ref_support.pairs)}, "
            f"{ref_support.pairs / games_count:.1f} pairs per game"
        )
        results |= {
            "relation_precision": _ratio(hyp_support.supported_pairs, hyp_support.pairs),
            "relation_pairs_per_game": hyp_support.pairs / games_count,
            "reference_number_share": _ratio(ref_support.supported_numbers, ref_support.numbers),
            "reference_relation_precision": _ratio(ref_support.supported_pairs, ref_support.pairs),
            "reference_relation_pairs_per_game": ref_support.pairs / games_count,
        }
    none = corpus_bleu(hypotheses, references, "none")
    print(f"BLEU (tokenized text, --tokenize none) = {none.score:.2f}  [{none.text}]")
    print(f"  signature: {none.signature}")
    thirteen = corpus_bleu(hypotheses, references, "13a")
    print(f"BLEU (--tokenize 13a) = {thirteen.score:.2f}  [{thirteen.text}]")
    print(f"  signature: {thirteen.signature}")
    return results | {"bleu": none.score, "bleu_13a": thirteen.score}


def read_games(data: Path, split: str, record_values: Sequence[str]) -> list[GameRecords] | None:
    """Each game's records from ``{split}.{value,entity,type}.txt``; None without the last two."""
    paths = [data / f"{split}.{name}.txt" for name in ("entity", "type")]
    if not all(p.is_file() for p in paths):
        return None
    entities, types = (read_texts(p) for p in paths)
    for path, lines in zip(paths, (entities, types)):
        if len(lines) != len(record_values):
            raise InputError(path, None, f"{len(lines)} games but {len(record_values)} lines of values")
    games = []
    for line, (values, entity, kind) in enumerate(zip(record_values, entities, types), start=1):
        try:
            games.append(GameRecords(values.split(), entity.split(), kind.split()))
        except ValueError as exc:
            raise InputError(paths[0], line, str(exc)) from None
    return games


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="data-bin folder written by tlm-prep-rotowire")
    parser.add_argument("--split", default="test")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--path", type=Path, help="checkpoint: run fairseq-generate")
    source.add_argument("--generate-output", type=Path, help="a saved fairseq-generate log")
    source.add_argument("--hyps", type=Path, help="one summary per line, in input order")
    parser.add_argument("--raw-hyps", action="store_true", help="tokenize --hyps with the Treebank tokenizer first")
    parser.add_argument("--refs", type=Path, help="references, one per line (default: DATA/SPLIT.tgt.txt)")
    parser.add_argument("--raw-refs", action="store_true", help="tokenize --refs with the Treebank tokenizer first")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--max-len-b", type=int, default=1000, help="max summary length in tokens")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--results-path", type=Path, help="keep the fairseq-generate log here")
    parser.add_argument("--output", type=Path, help="write the hypotheses here, in input order")
    parser.add_argument("--quiet", action="store_true", help="no per-output lines")
    parser.add_argument("--json", type=Path, help="also write the headline numbers here (JSON)")
    parser.epilog = "Options after a lone '--' go to fairseq-generate, e.g. '-- --cpu --lenpen 1.2'."
    return parser


def _hypotheses(args: argparse.Namespace, games: int) -> tuple[list[str], str]:
    """The hypotheses in input order and where they came from (for error messages)."""
    if args.hyps:
        hypotheses = read_texts(args.hyps)
        if args.raw_hyps:
            hypotheses = [" ".join(treebank_tokenize(h)) for h in hypotheses]
        return hypotheses, str(args.hyps)
    if args.generate_output:
        return read_generate_output(args.generate_output, games), str(args.generate_output)
    with tempfile.TemporaryDirectory() as tmp:
        log = run_generate(args, args.results_path or Path(tmp))
        return read_generate_output(log, games), str(log)


def _main(args: argparse.Namespace) -> int:
    if args.output is not None and args.output.is_dir():
        raise UserError(f"--output {args.output} is a folder")
    if args.path is not None and not args.path.is_file():
        raise InputError(args.path, None, "checkpoint not found")
    refs_path = args.refs or args.data / f"{args.split}.tgt.txt"
    values_path = args.data / f"{args.split}.value.txt"
    references = read_texts(refs_path)
    if args.raw_refs:
        references = [" ".join(treebank_tokenize(r)) for r in references]
    record_values = read_texts(values_path)
    if not record_values:
        raise UserError(f"{values_path}: no games in the split")
    games = read_games(args.data, args.split, record_values)
    hypotheses, origin = _hypotheses(args, len(record_values))
    if not len(hypotheses) == len(references) == len(record_values):
        raise UserError(
            f"{len(hypotheses)} hypotheses ({origin}), {len(references)} references ({refs_path}), "
            f"{len(record_values)} record lines ({values_path})"
        )
    if args.output:
        write_text_atomic(args.output, "".join(h + "\n" for h in hypotheses))
    results = evaluate(hypotheses, references, record_values, args.quiet, games)
    if args.json:
        plain = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in results.items()}
        write_text_atomic(args.json, json.dumps(plain, indent=1) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/eval_rotowire.py``; arguments after a lone ``--`` go to fairseq-generate."""
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    gen_args = argv[cut + 1 :]

    def body(args: argparse.Namespace) -> int:
        args.gen_args = gen_args
        return _main(args)

    return run_cli(build_parser(), body, argv[:cut])


if __name__ == "__main__":
    sys.exit(main())
