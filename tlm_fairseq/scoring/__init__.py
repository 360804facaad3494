"""Scorers: MaxMatch (M2) for grammatical error correction, BLEU for data-to-text."""
