"""``python -m preprocess.rotowire``: the tlm-prep-rotowire command."""
import sys

from .prep import main

sys.exit(main())
