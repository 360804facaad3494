"""Sufficient statistics, corpus scores and signatures of the M2 (MaxMatch) metric.

Corpus scoring is sacrebleu-like: each sentence yields per-annotator sufficient statistics
(correct, proposed, gold); the annotator kept for a sentence is the one that maximises F_beta of
the running totals so far (ties: more correct, then smaller proposed + beta^2 * gold, then the
lowest annotator id), exactly as NUS 3.2 does; the kept counts are summed into precision, recall
and F. The signature pins every setting that changes a figure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from .gold import GoldEdit, GoldSentence
from .lattice import INF, Lattice, LatticeTooLarge
from .reader import M2Error

#: Version of this implementation; it is part of every signature so that a score is reproducible.
SCORER_VERSION = "1.0"
OVERSIZED_POLICIES = ("error", "unmerged")
#: P/R/F of nothing is not 1.0: an empty gold file is a mistake (wrong path, failed export).
NO_SENTENCES = "no sentences to score (the gold M2 input holds no block)"


def _ignorable(edit: tuple[int, int, str, str]) -> bool:
    """NUS ``--ignore_whitespace_casing``: an edit that only changes spaces or letter case."""
    return edit[2].replace(" ", "").lower() == edit[3].replace(" ", "").lower()


def _match(edits: Sequence[tuple[int, int, str, str]], gold: Sequence[GoldEdit]) -> list[tuple[int, int, str, str]]:
    """NUS ``matchSeq``: gold edits are consumed in file order; a system edit counts once for
    each gold edit it matches in the remaining range (duplicate gold edits count twice)."""
    correct: list[tuple[int, int, str, str]] = []
    last = 0
    for e in edits:
        stop = len(gold)
        for i in range(last, stop):
            g = gold[i]
            if e[0] == g.start and e[1] == g.end and e[2] == g.original and e[3] in g.corrections:
                correct.append(e)
                last = i + 1
    return correct



@dataclass(frozen=True)
class AnnotatorStats:
    """Sufficient statistics of one sentence against one annotator, with the edits behind them."""

    annotator: int
    correct: int
    proposed: int
    gold: int
    edits: tuple[tuple[int, int, str, str], ...] = ()
    correct_edits: tuple[tuple[int, int, str, str], ...] = ()
    gold_edits: tuple[GoldEdit, ...] = ()


@dataclass(frozen=True)
class SentenceResult:
    """Per-annotator statistics of one sentence and the annotator kept by corpus scoring."""

    source: str
    hypothesis: str
    candidates: tuple[AnnotatorStats, ...]
    chosen: int = 0
    #: scored without merged edits because its lattice exceeded the budget (``oversized="unmerged"``)
    unmerged: bool = False

    @property
    def stats(self) -> AnnotatorStats:
        return self.candidates[self.chosen]


def f_running(c: float, e: float, g: float, beta: float) -> float:
    """NUS ``comp_f1`` on running totals (float arithmetic kept in NUS's order)."""
    try:
        return (1 + beta * beta) * c / (beta * beta * g + e)
    except ZeroDivisionError:
        return 1.0 if c == 0.0 else 0.0


def prf(correct: float, proposed: float, gold: float, beta: float) -> tuple[float, float, float]:
    """NUS final P/R/F: P = 1 with nothing proposed, R = 1 with nothing to find, F from P and R."""
    p = correct / proposed if proposed else 1.0
    r = correct / gold if gold else 1.0
    try:
        f = (1.0 + beta * beta) * p * r / (beta * beta * p + r)
    except ZeroDivisionError:
        f = 0.0
    return p, r, f


@dataclass(frozen=True)
class M2Score:
    """A corpus M2 score: counts, P/R/F_beta and the signature of the settings that produced it."""

    precision: float
    recall: float
    f: float
    beta: float
    correct: int
    proposed: int
    gold: int
    sentences: int
    signature: str
    unmerged_sentences: int = 0

    def format(self) -> str:
        """The NUS scorer's three lines."""
        return (f"Precision   : {self.precision:.4f}\n"
                f"Recall      : {self.recall:.4f}\n"
                f"F_{self.beta:.1f}       : {self.f:.4f}")

    def to_dict(self) -> dict[str, object]:
        return {"precision": self.precision, "recall": self.recall, "f": self.f, "beta": self.beta,
                "correct": self.correct, "proposed": self.proposed, "gold": self.gold,
                "sentences": self.sentences, "unmerged_sentences": self.unmerged_sentences,
                "signature": self.signature}


@dataclass
class M2Scorer:
    """MaxMatch scorer; ``corpus_score`` gives NUS-identical totals, ``sentence_stats`` the parts."""

    beta: float = 0.5
    max_unchanged_words: int = 2
    ignore_whitespace_casing: bool = False
    #: Budget of merged-edit arcs per sentence. A hypothesis unrelated to its source puts almost
    #: every cell on a shortest path; NUS's closure is then quadratic in cells and its run cubic
    #: (hours for one long sentence). Beyond the budget scoring stops with an M2Error instead of
    #: exhausting memory; ``None`` removes the limit. Never reached by ordinary system output.
    max_lattice_arcs: int | None = 2_000_000
    #: What to do with a sentence over the budget: ``error`` (stop, the default) or ``unmerged``
    #: (score it with ``max_unchanged_words=0``, i.e. without merging edits across unchanged
    #: tokens, count it, and mark the signature). ``unmerged`` keeps early, degenerate checkpoints
    #: scorable; the count tells how far the figure is from the NUS one.
    oversized: str = "error"

    def __post_init__(self) -> None:
        if self.oversized not in OVERSIZED_POLICIES:
            raise M2Error(f"oversized must be one of {', '.join(OVERSIZED_POLICIES)}, got {self.oversized!r}")
        if not (math.isfinite(self.beta) and self.beta > 0):
            raise M2Error(f"beta must be a positive number, got {self.beta}")
        if self.max_unchanged_words < 0:
            raise M2Error(f"max_unchanged_words must be >= 0, got {self.max_unchanged_words}")
        if self.max_lattice_arcs is not None and self.max_lattice_arcs < 0:
            raise M2Error(f"max_lattice_arcs must be >= 0 or None, got {self.max_lattice_arcs}")

    @property
    def signature(self) -> str:
        return (f"m2|beta:{self.beta:g}|max_unchanged:{self.max_unchanged_words}"
                f"|ws_case:{'ignored' if self.ignore_whitespace_casing else 'kept'}"
                f"|tok:space|annotator:cumulative"
                f"{'|oversized:unmerged' if self.oversized == 'unmerged' else ''}"
                f"|version:nus3.2-tlm{SCORER_VERSION}")

    def sentence_stats(self, hypothesis: str, gold: GoldSentence) -> tuple[AnnotatorStats, ...]:
        """Statistics of one hypothesis against each annotator of its gold sentence."""
        return self._sentence_stats(hypothesis, gold)[0]

    def _sentence_stats(self, hypothesis: str, gold: GoldSentence) -> tuple[tuple[AnnotatorStats, ...], bool]:
        """The statistics, and whether the sentence was scored without merged edits."""
        src, hyp = gold.source.split(), hypothesis.split()
        results: list[AnnotatorStats] = []
        unmerged = False
        if src == hyp:  # the lattice is the diagonal of noops: nothing is proposed
            for ann, edits in gold.annotations:
                results.append(AnnotatorStats(ann, 0, 0, len(edits), (), (), edits))
            return tuple(results), unmerged
        try:
            lattice = Lattice(src, hyp, self.max_unchanged_words, self.max_lattice_arcs)
        except LatticeTooLarge as exc:
            if self.oversized != "unmerged":
                raise M2Error(
                    f"gold line {gold.line}: the edit lattice of this hypothesis needs over {exc.args[0]} merged "
                    f"edits ({len(src)} source vs {len(hyp)} hypothesis tokens, hardly related); the NUS scorer "
                    f"would take hours on it; raise max_lattice_arcs (--max-lattice-arcs) to score it anyway, "
                    f"or score it without merged edits (--oversized unmerged)") from None
            lattice, unmerged = Lattice(src, hyp, 0, None), True
        paths: dict[tuple, list[int]] = {}
        for ann, edits in gold.annotations:
            over = lattice.weights(edits)
            key = tuple(sorted(over.items()))
            path = paths.get(key)
            if path is None:
                path = paths[key] = lattice.best_path(over)
            seq = [lattice.edit(pid) for pid in path]
            if self.ignore_whitespace_casing:
                seq = [e for e in seq if not _ignorable(e)]
            correct = _match(seq, edits)
            results.append(AnnotatorStats(ann, len(correct), len(seq), len(edits), tuple(seq), tuple(correct), edits))
        return tuple(results), unmerged

    def score_sentences(self, hypotheses: Sequence[str], gold: Sequence[GoldSentence]) -> list[SentenceResult]:
        """Per-sentence statistics with the annotator chosen as NUS does (on running totals)."""
        if len(hypotheses) != len(gold):
            raise M2Error(f"hypothesis count ({len(hypotheses)}) differs from gold sentence count ({len(gold)})")
        if not gold:
            raise M2Error(NO_SENTENCES)
        out: list[SentenceResult] = []
        tc = tp = tg = 0.0
        sq = self.beta * self.beta
        for hyp, g in zip(hypotheses, gold):
            cands, unmerged = self._sentence_stats(hyp, g)
            best_f, best_c, best_p, best_g, chosen = -1.0, -1.0, INF, INF, 0
            for k, st in enumerate(cands):
                c, p, gg = tc + st.correct, tp + st.proposed, tg + st.gold
                f = f_running(c, p, gg, self.beta)
                if (best_f < f or (best_f == f and best_c < c)
                        or (best_f == f and best_c == c and best_p + sq * best_g > p + sq * gg)):
                    best_f, best_c, best_p, best_g, chosen = f, c, p, gg, k
            st = cands[chosen]
            tc, tp, tg = tc + st.correct, tp + st.proposed, tg + st.gold
            out.append(SentenceResult(g.source, hyp, cands, chosen, unmerged))
        return out

    def score_from_results(self, results: Iterable[SentenceResult]) -> M2Score:
        """Sum the chosen statistics and turn them into P/R/F."""
        c = p = g = n = unmerged = 0
        for r in results:
            st = r.stats
            c, p, g, n = c + st.correct, p + st.proposed, g + st.gold, n + 1
            unmerged += r.unmerged
        if not n:
            raise M2Error(NO_SENTENCES)
        prec, rec, f = prf(float(c), float(p), float(g), self.beta)
        return M2Score(prec, rec, f, self.beta, c, p, g, n, self.signature, unmerged)

    def corpus_score(self, hypotheses: Sequence[str], gold: Sequence[GoldSentence]) -> M2Score:
        """Corpus-level M2 of hypotheses (one string per gold sentence) against parsed gold."""
        return self.score_from_results(self.score_sentences(hypotheses, gold))


def corpus_m2(hypotheses: Sequence[str], gold: Sequence[GoldSentence], beta: float = 0.5,
              max_unchanged_words: int = 2, ignore_whitespace_casing: bool = False) -> M2Score:
    """Convenience wrapper: ``M2Scorer(...).corpus_score(hypotheses, gold)``."""
    return M2Scorer(beta, max_unchanged_words, ignore_whitespace_casing).corpus_score(hypotheses, gold)

