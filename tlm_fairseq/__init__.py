"""fairseq user-dir for Token-Level Masking (Wu et al., EMNLP 2023, arXiv 2310.18738).

Importing this package (``--user-dir tlm_fairseq``) registers the models and tasks and
allowlists the types a fairseq checkpoint needs so that torch's ``weights_only`` loading works.
"""
from . import checkpoints  # noqa: F401  (allowlist first: generation loads checkpoints)
from . import compat  # noqa: F401  (fixes in the fairseq build we run on)
from . import models  # noqa: F401
from . import tasks  # noqa: F401
