"""``python -m preprocess.cgec``: the tlm-prep-cgec command."""
import sys

from .prep import main

sys.exit(main())
