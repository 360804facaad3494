"""Benchmark of ``tlm_fairseq.scoring.m2`` against a direct NUS M2 3.2 reference, with identity checked.

The reference (``tests/nus_m2_reference.py``, also the oracle of ``tests/test_m2.py``) restates
the NUS algorithm step by step with a dict-based graph; every per-sentence count and the totals
must be identical, and the CPU time of both is printed.

Run: ``python benchmarks/bench_m2.py`` (both levels, three hypothesis kinds). For context, the
issue measured the original NUS scorer at 13 s (word level) and 41 s (character level) on the
2000 NLPCC 2018 test sentences on a 2-core machine.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the reference lives beside the tests that use it

from nus_m2_reference import compare, make_hypotheses  # noqa: E402

from tlm_fairseq.scoring.m2 import M2Scorer, read_m2  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "cgec"),
                    help="folder with nlpcc18_test.{word,char}.m2")
    ap.add_argument("--levels", nargs="+", default=["word", "char"], choices=["word", "char"])
    ap.add_argument("--kinds", nargs="+", default=["source", "target0", "noisy"],
                    choices=["source", "target0", "noisy"])
    ap.add_argument("--limit", type=int, default=0, help="only the first N sentences (0: all)")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    scorer = M2Scorer()
    print("NUS M2 scorer (figures quoted in the issue, 2000 sentences, 2-core machine): "
          "13 s word level, 41 s character level")
    print("times: wall seconds (CPU seconds of this process); ratio = reference CPU / ours CPU")
    for level in args.levels:
        path = Path(args.data) / f"nlpcc18_test.{level}.m2"
        gold = read_m2(path)
        if args.limit:
            gold = gold[: args.limit]
        tot = {"ref_wall": 0.0, "ref_cpu": 0.0, "ours_wall": 0.0, "ours_cpu": 0.0}
        for kind in args.kinds:
            r = compare(make_hypotheses(gold, kind), gold, scorer)
            for key in tot:
                tot[key] += r[key]
            sc = r["score"]
            print(f"{level:4s} {kind:8s} n={len(gold)}  reference {r['ref_wall']:7.2f} s ({r['ref_cpu']:7.2f})  "
                  f"ours {r['ours_wall']:6.3f} s ({r['ours_cpu']:6.3f})  x{r['ref_cpu'] / r['ours_cpu']:6.1f}  "
                  f"P={sc.precision:.4f} R={sc.recall:.4f} F0.5={sc.f:.4f}  identical")
            sys.stdout.flush()
        print(f"{level:4s} {'all':8s} n={len(gold)}  reference {tot['ref_wall']:7.2f} s ({tot['ref_cpu']:7.2f})  "
              f"ours {tot['ours_wall']:6.3f} s ({tot['ours_cpu']:6.3f})  x{tot['ref_cpu'] / tot['ours_cpu']:6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
