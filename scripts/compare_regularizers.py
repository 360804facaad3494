#!/usr/bin/env python
"""Compare TLM, DropHead and attention dropout on one data-bin: each method tuned on validation,
tested over seeds, TLM modes ablated, with paired significance tests. The logic lives in
:mod:`tlm_fairseq.study.harness`; run with ``--help`` for the options.

    python scripts/compare_regularizers.py DATA_BIN --out docs/evidence/X --test-m2 test.m2 --test-ref test.tgt \
        --jobs 1 -- --arch tlm_transformer --encoder-layers 2 ... --optimizer adam --lr 1e-3 --max-tokens 1024
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tlm_fairseq.study.harness import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
