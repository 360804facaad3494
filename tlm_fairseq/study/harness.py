"""The study driver: resumable across sessions, N runs at once, reports rewritten after every run.

A study folder holds ``study.json`` (the protocol and the shared settings), ``runs/<run id>/`` (each
finished run's small result), ``runs.csv``, ``tables.md`` and the plots. A run whose
``result.json`` exists is never redone, so a study interrupted in one session continues in the
next from the committed folder; ``study.json`` makes sure the continuation uses the same settings.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from tqdm import tqdm

from tlm_fairseq.cli import CliParser, run_cli
from tlm_fairseq.errors import UserError
from tlm_fairseq.files import write_text_atomic

from .metrics import Gold, corpus_scores, m2_precision_recall
from .protocol import DEFAULT_RATES, METHODS, Protocol, Run, parse_fixed
from .report import Study, load_baseline, load_results, write_all
from .runner import RunConfig, execute, plain_text

STUDY_FILE = "study.json"


def build_parser() -> CliParser:
    p = CliParser(prog="compare_regularizers.py", description=__doc__ + """
Usage: compare_regularizers.py DATA_BIN --out STUDY [options] -- FAIRSEQ_TRAIN_ARGS
(everything after -- is passed to every fairseq-train run: architecture, sizes, optimizer, batch).""",
                  formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_bin", type=Path, help="binarized data (fairseq-preprocess output)")
    p.add_argument("--out", required=True, type=Path, help="study folder (results, tables, plots)")
    p.add_argument("--title", default="Regularizer comparison", help="heading of tables.md")
    p.add_argument("--work", type=Path, help="scratch folder for checkpoints and logs "
                   "(default: TMPDIR/tlm-study/<study folder name>); checkpoints are deleted after scoring")
    p.add_argument("--test-m2", help="gold M2 edits of the test split (tokens as the scored hypotheses)")
    p.add_argument("--test-ref", help="reference texts of the test split (exact match and BLEU)")
    p.add_argument("--valid-m2", help="gold M2 edits of the validation split (also scored, for the tuning table)")
    p.add_argument("--valid-ref", help="reference texts of the validation split")
    p.add_argument("--post", choices=("none", "cgec"), default="none",
                   help="turn hypothesis tokens into scored text: none (as generated) or cgec (restore <unk> from "
                        "the source, undo the data-bin's segmentation, one token per character)")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS, metavar="METHOD",
                   help=f"methods compared (default: {' '.join(METHODS)})")
    p.add_argument("--rates", nargs="+", type=float, default=list(DEFAULT_RATES), help="rates tuned per method")
    p.add_argument("--chosen", nargs="+", default=[], metavar="METHOD=RATE",
                   help="skip tuning for these methods and use this rate (e.g. another study's choice)")
    p.add_argument("--tune-seed", type=int, default=1)
    p.add_argument("--test-seeds", nargs="+", type=int, default=[2, 3, 4, 5, 6])
    p.add_argument("--ablation-seeds", nargs="*", type=int,
                   help="seeds of the TLM mode ablation (default: the test seeds; none given: no ablation)")
    p.add_argument("--max-update", type=int, default=4000, help="update cap (generous: early stopping should end runs)")
    p.add_argument("--patience", type=int, default=4, help="validations without improvement before stopping")
    p.add_argument("--valid-every", type=int, default=100, help="updates between validations (and best checkpoints)")
    p.add_argument("--generate-args", default="--beam 1 --max-len-a 1.2 --max-len-b 10 --batch-size 128",
                   help="fairseq-generate options for scoring (one string)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="cuda: every run uses the GPU (runs of --jobs share it)")
    p.add_argument("--jobs", type=int, default=1, help="runs at once, one process each")
    p.add_argument("--threads", type=int, default=1, help="CPU threads per run (OMP/MKL/OpenBLAS pinned)")
    p.add_argument("--resamples", type=int, default=1000, help="paired bootstrap resamples")
    p.add_argument("--report-only", action="store_true", help="rewrite tables and plots from finished runs; run nothing")
    return p


def make_gold(args: argparse.Namespace) -> dict[str, Gold]:
    gold = {}
    for split in ("test", "valid"):
        m2, ref = getattr(args, f"{split}_m2"), getattr(args, f"{split}_ref")
        if m2 or ref:
            try:
                gold[split] = Gold(m2, ref)
            except ValueError as exc:
                raise UserError(str(exc)) from None
    if "test" not in gold:
        raise UserError("give --test-m2 and/or --test-ref: a study needs test scores")
    return gold


def cgec_post(data_bin: Path):
    """Hypotheses of a ``python -m preprocess.cgec`` data-bin as character-tokenized text."""
    from preprocess.cgec.bpe import load_segmenter, read_meta
    from preprocess.cgec.hyp import m2_tokens, read_vocab, restore_unk
    from tlm_fairseq.files import iter_lines

    segmenter = load_segmenter(data_bin)
    vocab = read_vocab(data_bin / "dict.src.txt")
    text_dir = (data_bin / str(read_meta(data_bin).get("text_dir", "../text"))).resolve()

    def post(split: str, hypotheses: list[list[str]]) -> list[str]:
        sources = [line.split() for _, line in iter_lines(text_dir / f"{split}.src")]
        return [" ".join(m2_tokens(segmenter.decode(restore_unk(h, s, vocab)), "char"))
                for h, s in zip(hypotheses, sources)]

    return post


def write_baseline(out: Path, gold: Gold) -> None:
    """Scores of the uncorrected sources: the bar a model that merely copies its input reaches."""
    sources = gold.sources
    if sources is None:
        return
    stats, _ = gold.sentence_stats(sources)
    scores: dict[str, float] = corpus_scores(stats)
    precision, recall = m2_precision_recall([sum(col) for col in zip(*stats["m2"])])
    scores.update(m2_precision=precision, m2_recall=recall)
    write_text_atomic(out / "baseline.json", json.dumps(scores, indent=1) + "\n")


def check_study_file(out: Path, settings: dict) -> None:
    """The first run writes the settings; a resumed study must match them exactly."""
    path = out / STUDY_FILE
    if path.is_file():
        with open(path, encoding="utf-8") as fh:
            before = json.load(fh)
        differ = sorted(k for k in set(before) | set(settings) if before.get(k) != settings.get(k))
        if differ:
            raise UserError(f"{path}: this study was started with other settings ({', '.join(differ)}); "
                            f"use another --out, or the settings recorded there")
    else:
        write_text_atomic(path, json.dumps(settings, indent=1) + "\n")


def run_study(args: argparse.Namespace, train_args: list[str]) -> int:
    if not (args.data_bin / "dict.src.txt").is_file() and not list(args.data_bin.glob("dict.*.txt")):
        raise UserError(f"{args.data_bin}: not a fairseq data-bin (no dict.*.txt)")
    if args.jobs < 1 or args.threads < 1:
        raise UserError("--jobs and --threads must be at least 1")
    ablation_seeds = args.test_seeds if args.ablation_seeds is None else args.ablation_seeds
    protocol = Protocol(methods=tuple(args.methods), rates=tuple(args.rates), tune_seed=args.tune_seed,
                        test_seeds=tuple(args.test_seeds), ablation_seeds=tuple(ablation_seeds),
                        fixed=parse_fixed(args.chosen))
    work = args.work or Path(tempfile.gettempdir()) / "tlm-study" / args.out.resolve().name
    cfg = RunConfig(args.data_bin, train_args, work, args.max_update, args.patience, args.valid_every,
                    args.device, args.threads, shlex.split(args.generate_args), make_gold(args),
                    cgec_post(args.data_bin) if args.post == "cgec" else plain_text)
    runs_dir = args.out / "runs"
    results = load_results(runs_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        check_study_file(args.out, {"protocol": protocol.describe(), "config": cfg.describe(), "post": args.post})
    write_baseline(args.out, cfg.gold["test"])
    study = Study(protocol, results, runs_dir, resamples=args.resamples, baseline=load_baseline(args.out))
    if args.report_only:
        write_all(study, args.out, args.title)
        print((args.out / "tables.md").read_text(encoding="utf-8"))
        return 0
    if results:
        write_all(study, args.out, args.title)
    tuning = set(protocol.tuning_runs())
    failures: list[str] = []
    running: dict[Future, Run] = {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool, \
            tqdm(total=protocol.total_runs(), initial=len(results), desc="runs", unit="run", dynamic_ncols=True) as bar:
        while True:
            planned, final = protocol.planned({r: float(v["best_valid_loss"]) for r, v in results.items()})
            if final:
                bar.total = len(set(planned) | set(results))
            busy = set(running.values())
            todo = [r for r in planned if r not in results and r not in busy] if not failures else []
            for run in todo[: args.jobs - len(running)]:
                splits = ("test", "valid") if run in tuning else ("test",)  # valid scores inform the tuning table
                running[pool.submit(execute, run, cfg, runs_dir, splits)] = run
            if not running:
                break
            bar.set_postfix_str(", ".join(sorted(r.id for r in running.values())))
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                run = running.pop(future)
                try:
                    results[run] = future.result()
                except UserError as exc:
                    failures.append(f"{run.id}: {exc}")
                    continue
                bar.update(1)
                study.results = results
                write_all(study, args.out, args.title)
    if failures:
        raise UserError("; ".join(failures))
    planned, final = protocol.planned({r: float(v["best_valid_loss"]) for r, v in results.items()})
    print((args.out / "tables.md").read_text(encoding="utf-8"))
    missing = [r.id for r in planned if r not in results]
    if missing or not final:
        raise UserError(f"study incomplete: {len(missing)} run(s) missing")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    train_args = argv[split + 1:]
    return run_cli(build_parser(), lambda args: run_study(args, train_args), argv[:split])


__all__ = ["main", "run_study", "build_parser"]
