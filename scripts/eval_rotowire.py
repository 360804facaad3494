#!/usr/bin/env python
"""Generate Rotowire summaries for a split and score them (BLEU, content statistics).

The logic lives in :mod:`tlm_fairseq.scoring.rotowire_eval` (torch-free, importable by tests); see
its docstring or ``--help`` for the options.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from tlm_fairseq.scoring.rotowire_eval import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
