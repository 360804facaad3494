"""The statistics of the study: summaries, paired t-test across seeds, paired bootstrap, Holm.

Two sources of variance are tested separately, because each test sees only one:

* the paired t-test across seeds treats each seed as one paired observation (method A and method B
  trained with the same seed, scored on the same test set). It assumes the per-seed differences
  are independent draws from a normal distribution; with 5 seeds that assumption cannot be
  checked, so its p-value is approximate. It does not see test-set sampling variance.
* the paired bootstrap over test sentences resamples sentence indices (the same resample for both
  systems), recomputes each run's corpus score from per-sentence sufficient statistics, averages
  over the seeds of each system, and tests the difference (centred bootstrap null, Efron and
  Tibshirani 1993, ch. 16). It sees test-set variance with seeds held fixed, not seed variance.

A difference is called significant only when its Holm-adjusted p-value is below alpha.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import stats as scipy_stats

#: corpus score of summed sufficient statistics; rows of ``sums`` are resamples
CorpusScore = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation and t-based confidence interval of a few values."""

    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float

    def format(self, digits: int = 4) -> str:
        if self.n == 0:
            return "-"
        if self.n == 1:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.sd:.{digits}f}"

    def format_ci(self, digits: int = 4) -> str:
        if self.n < 2:
            return "-"
        return f"[{self.ci_low:.{digits}f}, {self.ci_high:.{digits}f}]"


def summarize(values: Sequence[float], confidence: float = 0.95) -> Summary:
    """Mean ± sd (n-1 denominator) and the two-sided t interval ``mean ± t * sd / sqrt(n)``."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return Summary(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Summary(1, mean, math.nan, math.nan, math.nan)
    sd = float(x.std(ddof=1))
    half = float(scipy_stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return Summary(n, mean, sd, mean - half, mean + half)


@dataclass(frozen=True)
class PairedT:
    """Paired t-test of ``a - b``: mean difference, its CI, t, degrees of freedom, two-sided p."""

    n: int
    mean_diff: float
    sd_diff: float
    t: float
    df: int
    p: float
    ci_low: float
    ci_high: float


def paired_t(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> PairedT:
    """Student's paired t-test; needs at least two pairs.

    Identical differences (sd 0) leave the t-test without a variance: t is ±inf (0 when they are
    all 0), and p is the exact two-sided sign test's, 2 * 0.5**n (1 when they are all 0), the
    smallest p that n same-signed differences can give without assuming a distribution. Discrete
    metrics make this common with few seeds (exact match on 400 sentences moves in steps of
    0.0025); reading p = 0 there would call two coinciding seeds a certainty.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in size: {len(x)} vs {len(y)}")
    n = len(x)
    if n < 2:
        raise ValueError(f"a paired t-test needs at least 2 pairs, got {n}")
    d = x - y
    mean, sd, df = float(d.mean()), float(d.std(ddof=1)), n - 1
    scale = float(max(np.abs(x).max(), np.abs(y).max(), 1e-300))
    if sd <= 1e-9 * scale:  # identical up to rounding: 0.0125 - 0.0150 and 0.0150 - 0.0175 differ by 1e-18
        sd, none = 0.0, abs(mean) <= 1e-9 * scale
        t = 0.0 if none else math.copysign(math.inf, mean)
        p = 1.0 if none else min(1.0, 2.0 * 0.5**n)
        return PairedT(n, mean, sd, t, df, p, mean, mean)
    se = sd / math.sqrt(n)
    t = mean / se
    p = float(2.0 * scipy_stats.t.sf(abs(t), df))
    half = float(scipy_stats.t.ppf(0.5 + confidence / 2, df)) * se
    return PairedT(n, mean, sd, t, df, p, mean - half, mean + half)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (controls the family-wise error rate), input order kept."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class Bootstrap:
    """Paired bootstrap of the seed-averaged corpus score difference ``a - b``."""

    observed: float
    ci_low: float
    ci_high: float
    p: float
    resamples: int


def resample_counts(n_sentences: int, resamples: int, seed: int) -> np.ndarray:
    """How often each sentence is drawn in each resample (resamples x sentences)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_sentences, size=(resamples, n_sentences))
    counts = np.zeros((resamples, n_sentences), dtype=np.int64)
    np.add.at(counts, (np.arange(resamples)[:, None], idx), 1)
    return counts


def paired_bootstrap(a_runs: Sequence[np.ndarray], b_runs: Sequence[np.ndarray], score: CorpusScore,
                     resamples: int = 1000, seed: int = 12345, confidence: float = 0.95) -> Bootstrap:
    """Test ``mean_seeds score(A) - mean_seeds score(B)`` by resampling test sentences.

    Each run is a (sentences x statistics) array of per-sentence sufficient statistics; every run
    of both systems is scored on the same resamples. The p-value is two-sided under the centred
    null: the share of resampled differences at least as far from their mean as the observed
    difference is from 0 (with the +1 correction, so it is never 0).
    """
    runs = [np.asarray(r, dtype=float) for r in (*a_runs, *b_runs)]
    n = runs[0].shape[0]
    if any(r.shape[0] != n for r in runs):
        raise ValueError("every run must have statistics for the same test sentences")
    counts = resample_counts(n, resamples, seed).astype(float)

    def mean_score(group: Sequence[np.ndarray]) -> tuple[float, np.ndarray]:
        full = np.mean([float(score(np.asarray(r, dtype=float).sum(axis=0)[None, :])[0]) for r in group])
        resampled = np.mean([score(counts @ np.asarray(r, dtype=float)) for r in group], axis=0)
        return float(full), resampled

    a_full, a_res = mean_score(a_runs)
    b_full, b_res = mean_score(b_runs)
    observed = a_full - b_full
    diffs = a_res - b_res
    tail = (1 - confidence) / 2
    low, high = np.quantile(diffs, [tail, 1 - tail])
    extreme = np.sum(np.abs(diffs - diffs.mean()) >= abs(observed))
    p = float((extreme + 1) / (resamples + 1))
    return Bootstrap(observed, float(low), float(high), p, resamples)
