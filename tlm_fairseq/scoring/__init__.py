"""Scorers: MaxMatch (M2) for grammatical error correction, BLEU for data-to-text."""
from .m2 import M2Error, M2Score, M2Scorer, corpus_m2, parse_m2, read_hypotheses, read_m2  # noqa: F401
