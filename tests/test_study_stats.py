"""tlm_fairseq.study.stats and .metrics against hand-computed cases and the project's scorers."""
import math

import numpy as np
import pytest
from sacrebleu.metrics import BLEU

from tlm_fairseq.scoring import M2Scorer, parse_m2
from tlm_fairseq.study.metrics import Gold, bleu_score, corpus_scores, exact_score, m2_score
from tlm_fairseq.study.stats import holm, paired_bootstrap, paired_t, resample_counts, summarize


def test_paired_t_matches_a_hand_computed_case():
    # differences 1, 2, 3: mean 2, sd 1, t = 2 / (1 / sqrt 3) = 2 sqrt 3, df 2. For df 2 the t
    # distribution has the closed form P(T > t) = (1 - t / sqrt(t^2 + 2)) / 2.
    result = paired_t([11.0, 12.0, 13.0], [10.0, 10.0, 10.0])
    t = 2 * math.sqrt(3)
    assert result.t == pytest.approx(t)
    assert result.df == 2 and result.mean_diff == pytest.approx(2.0) and result.sd_diff == pytest.approx(1.0)
    assert result.p == pytest.approx(1 - t / math.sqrt(t * t + 2), rel=1e-9)  # two-sided
    # 95% CI: 2 ± t_{0.975,2} / sqrt 3 with t_{0.975,2} = 4.302653 (tables)
    assert result.ci_low == pytest.approx(2 - 4.302653 / math.sqrt(3), abs=1e-5)
    assert result.ci_high == pytest.approx(2 + 4.302653 / math.sqrt(3), abs=1e-5)


def test_paired_t_is_symmetric_and_handles_constant_differences():
    a, b = [0.31, 0.35, 0.29, 0.40, 0.33], [0.30, 0.30, 0.31, 0.36, 0.30]
    ab, ba = paired_t(a, b), paired_t(b, a)
    assert ab.p == pytest.approx(ba.p) and ab.t == pytest.approx(-ba.t)
    assert paired_t([1, 2, 3], [1, 2, 3]).p == 1.0
    assert paired_t([2, 3, 4], [1, 2, 3]).p == 0.25  # no variance: the exact sign test, 2 * 0.5**3
    assert paired_t([0.0125, 0.0150], [0.0150, 0.0175]).p == 0.5  # two seeds that happen to coincide
    assert paired_t([1.0] * 6, [0.0] * 6).p == pytest.approx(0.03125) and paired_t([1.0] * 6, [0.0] * 6).t == math.inf
    with pytest.raises(ValueError):
        paired_t([1.0], [2.0])
    with pytest.raises(ValueError):
        paired_t([1.0, 2.0], [2.0])


def test_summary_interval():
    s = summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    # mean 3, sd sqrt(2.5), t_{0.975,4} = 2.776445
    assert (s.n, s.mean, s.sd) == (5, 3.0, pytest.approx(math.sqrt(2.5)))
    assert s.ci_high - s.mean == pytest.approx(2.776445 * math.sqrt(2.5) / math.sqrt(5), abs=1e-5)
    assert s.format(2) == "3.00 ± 1.58" and s.format_ci(2) == "[1.04, 4.96]"
    assert summarize([0.5]).format() == "0.5000" and summarize([0.5]).format_ci() == "-"
    assert summarize([]).format() == "-"


def test_holm_step_down():
    # sorted 0.005 0.01 0.03 0.04 -> x4 x3 x2 x1 = 0.02 0.03 0.06 0.04 -> monotone 0.02 0.03 0.06 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == [1.0, 1.0]  # 0.9 alone would pass, but Holm adjustments are monotone
    assert holm([0.2, 0.01]) == pytest.approx([0.2, 0.02])
    assert holm([]) == []


def test_resample_counts_draw_every_sentence_set_of_the_right_size():
    counts = resample_counts(7, 50, seed=3)
    assert counts.shape == (50, 7) and (counts.sum(axis=1) == 7).all()
    assert (resample_counts(7, 50, seed=3) == counts).all()


def test_paired_bootstrap_separates_a_real_difference_and_not_noise():
    rng = np.random.default_rng(0)
    n = 300
    good = [np.stack([rng.random(n) < 0.8, np.ones(n)], axis=1) for _ in range(3)]
    bad = [np.stack([rng.random(n) < 0.5, np.ones(n)], axis=1) for _ in range(3)]
    same = [np.stack([rng.random(n) < 0.8, np.ones(n)], axis=1) for _ in range(3)]
    strong = paired_bootstrap(good, bad, exact_score, resamples=500)
    assert strong.observed == pytest.approx(np.mean([g[:, 0].mean() for g in good]) - np.mean([b[:, 0].mean() for b in bad]))
    assert strong.p < 0.01 and strong.ci_low > 0.2
    null = paired_bootstrap(good, same, exact_score, resamples=500)
    assert null.p > 0.05 and null.ci_low < 0 < null.ci_high
    # same resamples for both systems: a system against itself differs by exactly 0 everywhere
    self_test = paired_bootstrap(good, good, exact_score, resamples=200)
    assert self_test.observed == 0 and self_test.ci_low == 0 == self_test.ci_high and self_test.p == 1.0


GOLD = """S a b c d
A 1 2|||S|||x|||REQUIRED|||-NONE-|||0
A 3 3|||M|||e|||REQUIRED|||-NONE-|||0

S p q r
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S u v v w
A 2 3|||R|||-NONE-|||REQUIRED|||-NONE-|||0
"""


def test_sentence_statistics_reproduce_the_corpus_scorers(tmp_path):
    (tmp_path / "gold.m2").write_text(GOLD)
    (tmp_path / "ref.txt").write_text("a x c e d\np q r\nu v w\n")
    hyps = ["a x c d", "p q z", "u v w"]
    gold = Gold(str(tmp_path / "gold.m2"), str(tmp_path / "ref.txt"))
    stats, unmerged = gold.sentence_stats(hyps)
    assert unmerged == 0 and gold.metrics == ("m2", "exact", "bleu")
    scores = corpus_scores(stats)
    m2 = M2Scorer(beta=0.5).corpus_score(hyps, parse_m2(GOLD))
    assert stats["m2"] == [[1, 1, 2], [0, 1, 0], [1, 1, 1]]
    assert scores["m2"] == pytest.approx(m2.f)
    assert scores["exact"] == pytest.approx(1 / 3)
    refs = ["a x c e d", "p q r", "u v w"]
    assert scores["bleu"] == pytest.approx(BLEU(tokenize="none").corpus_score(hyps, [refs]).score)
    with pytest.raises(ValueError):
        gold.sentence_stats(hyps[:2])


def test_m2_score_follows_nus_conventions():
    # nothing proposed and nothing to find: P = R = 1, F = 1; nothing correct: F = 0
    assert m2_score(np.array([[0, 0, 0]]))[0] == 1.0
    assert m2_score(np.array([[0, 3, 2]]))[0] == 0.0
    p, r = 2 / 4, 2 / 5
    assert m2_score(np.array([[2, 4, 5]]))[0] == pytest.approx(1.25 * p * r / (0.25 * p + r))
    assert bleu_score(np.array([[3, 3, 3, 2, 1, 0, 3, 2, 1, 0]]))[0] == pytest.approx(
        BLEU(tokenize="none").corpus_score(["a b c"], [["a b c"]]).score)
