"""fairseq user-dir for Token-Level Masking (Wu et al., EMNLP 2023, arXiv 2310.18738).

Importing this package is cheap and torch-free, so the project's torch-free parts (the M2 scorer,
BLEU, the CLI and file helpers) can live here and serve without the training stack. The models and
tasks are registered by :func:`register`, which runs on import whenever fairseq is already loaded:
that is how ``--user-dir tlm_fairseq`` imports a user-dir (fairseq first, then the package), so
``fairseq-train``/``fairseq-generate`` see everything. Code that imports this package before
fairseq calls :func:`register` itself (importing ``tlm_fairseq.models`` does it too).
"""
from __future__ import annotations

import sys


def register() -> None:
    """Allowlist checkpoint types, apply the fairseq-build fixes, register models and tasks."""
    from . import models  # noqa: F401  (imports checkpoints and compat first)
    from . import tasks  # noqa: F401


if "fairseq" in sys.modules:
    register()
