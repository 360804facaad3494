"""``python -m tlm_fairseq.scoring.m2``: the same command as ``tlm-m2``."""
import sys

from .cli import main

sys.exit(main())
