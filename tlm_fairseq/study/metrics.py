"""Per-sentence sufficient statistics of the study's metrics and their corpus scores.

A corpus score is a function of per-sentence statistics summed over the sentences, so a run keeps
only those rows and any resample of the test set can be rescored without rerunning the scorers:

* ``m2``    correct, proposed, gold edits of the annotator the project's M2 scorer kept for the
  sentence, giving F_beta (precision 1 with nothing proposed, recall 1 with nothing to find, as
  NUS). With one annotator per sentence this is the scorer's corpus F exactly; with several, the
  annotator choice made on the full set is kept fixed under resampling (an approximation);
* ``exact`` 1 when the hypothesis equals the reference, and a count column;
* ``bleu``  sacrebleu's sentence statistics (hypothesis and reference length, n-gram matches and
  totals), scored by sacrebleu itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from sacrebleu.metrics import BLEU

from tlm_fairseq.scoring import M2Scorer, read_m2

BETA = 0.5
METRICS = ("m2", "exact", "bleu")
#: names of the headline figures, as they appear in result.json, runs.csv and the tables
LABELS = {"m2": "F0.5", "exact": "exact match", "bleu": "BLEU"}


def m2_score(sums: np.ndarray, beta: float = BETA) -> np.ndarray:
    """F_beta of rows ``[correct, proposed, gold]`` the way the NUS scorer computes it."""
    c, p, g = (np.asarray(sums, dtype=float)[:, k] for k in range(3))
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(p > 0, c / np.where(p > 0, p, 1), 1.0)
        recall = np.where(g > 0, c / np.where(g > 0, g, 1), 1.0)
        denom = beta * beta * precision + recall
        f = np.where(denom > 0, (1 + beta * beta) * precision * recall / np.where(denom > 0, denom, 1), 0.0)
    return f


def m2_precision_recall(sums: np.ndarray) -> tuple[float, float]:
    """Corpus precision and recall of one row ``[correct, proposed, gold]`` (NUS conventions)."""
    c, p, g = (float(v) for v in np.asarray(sums, dtype=float).reshape(-1)[:3])
    return (c / p if p else 1.0), (c / g if g else 1.0)


def exact_score(sums: np.ndarray) -> np.ndarray:
    """Share of exact matches from rows ``[matches, sentences]``."""
    s = np.asarray(sums, dtype=float)
    return s[:, 0] / s[:, 1]


_BLEU = BLEU(tokenize="none")


def bleu_score(sums: np.ndarray) -> np.ndarray:
    """sacrebleu's corpus BLEU (tokenize none, exp smoothing) of summed sentence statistics."""
    return np.array([_BLEU._compute_score_from_stats([int(v) for v in row]).score for row in np.asarray(sums)])


SCORES: dict[str, Callable[[np.ndarray], np.ndarray]] = {"m2": m2_score, "exact": exact_score, "bleu": bleu_score}


@dataclass
class Gold:
    """What a split's hypotheses are scored against: gold M2 edits and/or reference texts."""

    m2_path: str | None = None
    ref_path: str | None = None

    def __post_init__(self) -> None:
        self._m2 = read_m2(self.m2_path) if self.m2_path else None
        self._refs: list[str] | None = None
        if self.ref_path:
            from tlm_fairseq.files import iter_lines

            self._refs = [" ".join(line.split()) for _, line in iter_lines(self.ref_path)]
        if self._m2 is not None and self._refs is not None and len(self._m2) != len(self._refs):
            raise ValueError(f"{self.m2_path} has {len(self._m2)} sentences but {self.ref_path} has {len(self._refs)}")

    @property
    def size(self) -> int:
        if self._m2 is not None:
            return len(self._m2)
        return len(self._refs or [])

    @property
    def sources(self) -> list[str] | None:
        """The uncorrected sources (from the gold M2 file): the "copy the input" baseline."""
        return None if self._m2 is None else [g.source for g in self._m2]

    @property
    def metrics(self) -> tuple[str, ...]:
        return (("m2",) if self._m2 is not None else ()) + (("exact", "bleu") if self._refs is not None else ())

    def sentence_stats(self, hypotheses: Sequence[str]) -> tuple[dict[str, list[list[int]]], int]:
        """Per-sentence statistics of every available metric, and how many sentences the M2
        scorer had to score without merged edits (degenerate hypotheses, see ``--oversized``)."""
        if len(hypotheses) != self.size:
            raise ValueError(f"{len(hypotheses)} hypotheses for {self.size} gold sentences")
        out: dict[str, list[list[int]]] = {}
        unmerged = 0
        if self._m2 is not None:
            results = M2Scorer(beta=BETA, oversized="unmerged").score_sentences(list(hypotheses), self._m2)
            out["m2"] = [[r.stats.correct, r.stats.proposed, r.stats.gold] for r in results]
            unmerged = sum(bool(r.unmerged) for r in results)
        if self._refs is not None:
            hyps = [" ".join(h.split()) for h in hypotheses]
            out["exact"] = [[int(h == r), 1] for h, r in zip(hyps, self._refs)]
            out["bleu"] = [[int(v) for v in row] for row in _BLEU._extract_corpus_statistics(hyps, [self._refs])]
        return out, unmerged


def corpus_scores(sentence_stats: dict[str, list[list[int]]]) -> dict[str, float]:
    """Headline figure of each metric over the whole split."""
    return {name: float(SCORES[name](np.asarray(rows).sum(axis=0)[None, :])[0])
            for name, rows in sentence_stats.items()}
