"""``tlm-m2 SYSTEM GOLD_M2``: the M2 scorer's command line (also ``python -m tlm_fairseq.scoring.m2``).

Prints NUS's three lines (or JSON with counts and signature). Bad input is one
``tlm-m2: error: FILE:LINE: message`` line and exit status 2; gold lines that NUS scores although
they are malformed give one ``tlm-m2: warning:`` line per kind, with a count and the first
``FILE:LINE``, before the scores.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence, TextIO

from tlm_fairseq.cli import CliParser, run_cli

from .gold import GoldEdit, read_hypotheses, read_m2
from .reader import M2Error, M2Warnings
from .stats import NO_SENTENCES, OVERSIZED_POLICIES, M2Scorer, SentenceResult, f_running, prf

PROG = "tlm-m2"


def _fmt_edit(e: tuple[int, int, str, str]) -> str:
    return f"({e[0]}, {e[1]}, {e[2]!r}, {e[3]!r})"


def _fmt_gold(g: GoldEdit) -> str:
    return f"({g.start}, {g.end}, {g.original!r}, {list(g.corrections)!r})"


def _verbose(results: Sequence[SentenceResult], scorer: M2Scorer, out: TextIO) -> None:
    """Per-sentence details in the spirit of NUS ``-v`` (running totals per annotator)."""
    tc = tp = tg = 0
    for i, r in enumerate(results, start=1):
        for st in r.candidates:
            c, p, g = tc + st.correct, tp + st.proposed, tg + st.gold
            prec, rec, _ = prf(c, p, g, scorer.beta)
            print(f">> Annotator: {st.annotator}", file=out)
            print(f"SOURCE        : {r.source}", file=out)
            print(f"HYPOTHESIS    : {r.hypothesis}", file=out)
            print(f"EDIT SEQ      : [{', '.join(map(_fmt_edit, st.edits))}]", file=out)
            print(f"GOLD EDITS    : [{', '.join(map(_fmt_gold, st.gold_edits))}]", file=out)
            print(f"CORRECT EDITS : [{', '.join(map(_fmt_edit, st.correct_edits))}]", file=out)
            print(f"# correct     : {c}", file=out)
            print(f"# proposed    : {p}", file=out)
            print(f"# gold        : {g}", file=out)
            print(f"precision     : {prec}", file=out)
            print(f"recall        : {rec}", file=out)
            print(f"f_{scorer.beta:.1f}         : {f_running(c, p, g, scorer.beta)}", file=out)
            print("-------------------------------------------", file=out)
        st = r.stats
        tc, tp, tg = tc + st.correct, tp + st.proposed, tg + st.gold
        print(f">> Chosen Annotator for line {i} : {st.annotator}", file=out)
        print("", file=out)
    print(f"CORRECT EDITS  : {tc}", file=out)
    print(f"PROPOSED EDITS : {tp}", file=out)
    print(f"GOLD EDITS     : {tg}", file=out)


def build_parser() -> argparse.ArgumentParser:
    ap = CliParser(
        prog=PROG,
        description="MaxMatch (M2) scorer, result-identical to the NUS M2 scorer 3.2 and much faster.")
    ap.add_argument("system", help="system output, one tokenized sentence per line")
    ap.add_argument("gold", help="M2 file: source sentences with gold edits")
    ap.add_argument("--beta", type=float, default=0.5, help="beta of F_beta (default 0.5)")
    ap.add_argument("--max-unchanged-words", type=int, default=2,
                    help="unchanged tokens a merged edit may span (default 2)")
    ap.add_argument("--ignore-whitespace-casing", action="store_true",
                    help="drop system edits that only change whitespace or casing")
    ap.add_argument("--max-lattice-arcs", type=int, default=2_000_000,
                    help="per-sentence budget of merged edits; 0 means unlimited (default 2000000)")
    ap.add_argument("--oversized", choices=OVERSIZED_POLICIES, default="error",
                    help="a sentence over the budget: stop with an error (default), or score it without "
                         "merging edits across unchanged tokens and report how many were (unmerged)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print per-sentence details first")
    ap.add_argument("--json", action="store_true", help="print a JSON object instead of the three lines")
    return ap


def _score(args: argparse.Namespace) -> int:
    scorer = M2Scorer(args.beta, args.max_unchanged_words, args.ignore_whitespace_casing,
                      args.max_lattice_arcs or None, args.oversized)
    found = M2Warnings()
    gold = read_m2(args.gold, found)
    for line in found.lines():
        print(f"{PROG}: warning: {line}", file=sys.stderr)
    if not gold:
        raise M2Error(f"{args.gold}: {NO_SENTENCES}")
    hyps = read_hypotheses(args.system)
    if len(hyps) != len(gold):
        raise M2Error(f"{args.system} has {len(hyps)} hypotheses but {args.gold} has {len(gold)} sentences")
    results = scorer.score_sentences(hyps, gold)
    score = scorer.score_from_results(results)
    if score.unmerged_sentences:
        print(f"{PROG}: warning: {score.unmerged_sentences} sentence(s) exceeded --max-lattice-arcs and were "
              f"scored without merged edits; the figures are not NUS-identical for them", file=sys.stderr)
    if args.verbose:
        _verbose(results, scorer, sys.stdout)
    if args.json:
        print(json.dumps(score.to_dict(), ensure_ascii=False))
    else:
        print(score.format())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``tlm-m2``; returns the exit status."""
    return run_cli(build_parser(), _score, argv)
