"""Scorers: MaxMatch (M2) for grammatical error correction, BLEU for data-to-text.

Only the torch-free M2 names are imported here; ``tlm_fairseq.scoring.bleu`` is imported on use.
"""
from .m2 import (  # noqa: F401
    M2Error,
    M2InputError,
    M2Score,
    M2Scorer,
    M2Warnings,
    corpus_m2,
    parse_m2,
    read_blocks,
    read_hypotheses,
    read_m2,
)
