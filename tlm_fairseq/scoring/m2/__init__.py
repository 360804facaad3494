"""MaxMatch (M2) scorer for grammatical error correction, result-identical to the NUS M2 scorer 3.2.

Split by job, as sacrebleu separates its library from its metrics:

* :mod:`.reader`  the one M2 reader and writer (lossless blocks, strict or warning mode), shared
  with preprocessing;
* :mod:`.gold`    NUS's reading of those blocks into gold sentences, and the hypothesis file;
* :mod:`.lattice` the NUS edit lattice of one sentence pair, computed fast (the hot path);
* :mod:`.stats`   per-sentence statistics, the annotator choice, corpus P/R/F and the signature;
* :mod:`.cli`     ``tlm-m2`` (also ``python -m tlm_fairseq.scoring.m2``).

Importing it needs only the standard library and the project's torch-free helpers.
"""
from .cli import main
from .gold import GoldEdit, GoldSentence, gold_sentences, parse_m2, read_hypotheses, read_m2
from .reader import (
    M2Block,
    M2Edit,
    M2Error,
    M2InputError,
    M2Note,
    M2Source,
    M2Warning,
    M2Warnings,
    format_blocks,
    parse_blocks,
    read_blocks,
    write_blocks,
)
from .stats import SCORER_VERSION, AnnotatorStats, M2Score, M2Scorer, SentenceResult, corpus_m2

__all__ = [
    "SCORER_VERSION",
    "M2Error",
    "M2InputError",
    "M2Warning",
    "M2Warnings",
    "M2Block",
    "M2Source",
    "M2Edit",
    "M2Note",
    "GoldEdit",
    "GoldSentence",
    "AnnotatorStats",
    "SentenceResult",
    "M2Score",
    "M2Scorer",
    "parse_blocks",
    "read_blocks",
    "write_blocks",
    "format_blocks",
    "gold_sentences",
    "parse_m2",
    "read_m2",
    "read_hypotheses",
    "corpus_m2",
    "main",
]
