"""Tests of the MaxMatch (M2) scorer: NUS-identical counts, special cases, bad input, CLI.

The oracle is the direct NUS reference implementation in ``nus_m2_reference`` (dict graph, full
closure, all Bellman-Ford passes), shared with benchmarks/bench_m2.py. The reader's own tests
(strictness, warnings, round trip, fuzzing) are in test_m2_reader.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import nus_m2_reference as nus
import pytest
from helpers import PY, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlm_fairseq.errors import InputError
from tlm_fairseq.scoring.m2 import (
    GoldEdit,
    GoldSentence,
    M2Error,
    M2Scorer,
    M2Warning,
    M2Warnings,
    corpus_m2,
    main,
    parse_m2,
    read_hypotheses,
    read_m2,
)

EXAMPLE_GOLD = """S The cat sat at mat .
A 3 4|||Prep|||on|||REQUIRED|||-NONE-|||0
A 4 4|||ArtOrDet|||the||a|||REQUIRED|||-NONE-|||0

S The dog .
A 1 2|||NN|||dogs|||REQUIRED|||-NONE-|||0
A -1 -1|||noop|||-NONE-|||-NONE-|||-NONE-|||1

S Giant otters is an apex predator .
A 2 3|||SVA|||are|||REQUIRED|||-NONE-|||0
A 3 4|||ArtOrDet|||-NONE-|||REQUIRED|||-NONE-|||0
A 5 6|||NN|||predators|||REQUIRED|||-NONE-|||0
A 1 2|||NN|||otter|||REQUIRED|||-NONE-|||1
"""
EXAMPLE_SYSTEM = "A cat sat on the mat .\nThe dog .\nGiant otters are apex predator .\n"


def ref_rows(hyp: str, gold: GoldSentence, mu: int = 2, iwc: bool = False) -> list[tuple[int, int, int, int]]:
    return nus.ref_sentence(hyp, gold.source, nus.nus_gold(gold), mu, iwc)


def our_rows(hyp: str, gold: GoldSentence, mu: int = 2, iwc: bool = False) -> list[tuple[int, int, int, int]]:
    scorer = M2Scorer(max_unchanged_words=mu, ignore_whitespace_casing=iwc)
    return [(s.annotator, s.correct, s.proposed, s.gold) for s in scorer.sentence_stats(hyp, gold)]


def one(source: str, *edits: tuple[int, int, str | tuple[str, ...]], annotator: int = 0) -> GoldSentence:
    toks = source.split()
    gold = tuple(GoldEdit(s, e, " ".join(toks[s:e]), (c,) if isinstance(c, str) else c) for s, e, c in edits)
    return GoldSentence(source, ((annotator, gold),))


# ------------------------------------------------------------------------------------------------
# Known results
# ------------------------------------------------------------------------------------------------


def test_public_example_in_memory():
    gold = parse_m2(EXAMPLE_GOLD)
    score = corpus_m2(EXAMPLE_SYSTEM.splitlines(), gold)
    assert (score.correct, score.proposed, score.gold) == (4, 5, 5)
    assert score.format() == "Precision   : 0.8000\nRecall      : 0.8000\nF_0.5       : 0.8000"


def test_public_example_shared_files(shared_data):
    gold = read_m2(shared_data / "m2_example" / "source_gold")
    hyps = read_hypotheses(shared_data / "m2_example" / "system")
    score = corpus_m2(hyps, gold)
    assert (round(score.precision, 4), round(score.recall, 4), round(score.f, 4)) == (0.8, 0.8, 0.8)


def test_source_as_hypothesis_scores_p1_r0_f0():
    gold = parse_m2(EXAMPLE_GOLD)
    score = corpus_m2([g.source for g in gold], gold)
    assert (score.precision, score.recall, score.f) == (1.0, 0.0, 0.0)
    assert (score.correct, score.proposed) == (0, 0)
    # F ties at 0, so NUS keeps the annotator with the smaller proposed + beta^2 * gold:
    # the noop annotator in sentence 2 and the one-edit annotator in sentence 3
    assert score.gold == 2 + 0 + 1


def test_all_edits_of_single_annotator_score_p_r_1():
    gold = one("a b c d e f g", (0, 1, "A"), (2, 2, "x y"), (3, 4, ""), (5, 7, "F"), (7, 7, ("!", "?")))
    hyp = "A b x y c e F !"
    score = corpus_m2([hyp], [gold])
    assert (score.correct, score.proposed, score.gold) == (5, 5, 5)
    assert (score.precision, score.recall, score.f) == (1.0, 1.0, 1.0)


def test_nothing_to_find_and_nothing_proposed_is_perfect():
    gold = parse_m2("S a b\nA -1 -1|||noop|||-NONE-|||-NONE-|||-NONE-|||0\n")
    assert corpus_m2(["a b"], gold).f == 1.0
    assert corpus_m2(["a c"], gold).precision == 0.0


SPECIAL_GOLD = GoldSentence(
    "the cat sat on the mat .", ((0, (GoldEdit(4, 5, "the", ("this", "a")), GoldEdit(7, 7, "", ("!",)))),))


@pytest.mark.parametrize(
    "hyp, expected, edits",
    [
        # empty hypothesis: the whole sentence is one merged deletion
        ("", (0, 1, 2), [(0, 7, "the cat sat on the mat .", "")]),
        ("the cat sat on the mat .", (0, 0, 2), []),
        # insertion at the very end of the sentence
        ("the cat sat on the mat . !", (1, 1, 2), [(7, 7, "", "!")]),
        # second alternative of a gold edit
        ("the cat sat on a mat .", (1, 1, 2), [(4, 5, "the", "a")]),
        # the gold insertion is preferred to substituting the last token
        ("the cat sat on this mat !", (2, 3, 2), [(4, 5, "the", "this"), (6, 7, ".", ""), (7, 7, "", "!")]),
        # a repeated token: NUS merges across the unchanged neighbours
        ("the cat sat on on the mat .", (0, 1, 2), [(3, 5, "on the", "on on the")]),
    ],
)
def test_special_cases(hyp, expected, edits):
    stats = M2Scorer().sentence_stats(hyp, SPECIAL_GOLD)[0]
    assert (stats.correct, stats.proposed, stats.gold) == expected
    assert list(stats.edits) == edits
    assert ref_rows(hyp, SPECIAL_GOLD) == [(0, *expected)]


def test_two_insertions_at_one_offset_each_match_once():
    gold = one("a b", (1, 1, "x"), (1, 1, "y"))
    assert our_rows("a x y b", gold) == ref_rows("a x y b", gold) == [(0, 2, 2, 2)]
    assert our_rows("a y x b", gold) == ref_rows("a y x b", gold)


def test_duplicate_gold_edit_counts_twice_like_nus():
    gold = one("a b c", (1, 2, "B"), (1, 2, "B"))
    assert our_rows("a B c", gold) == ref_rows("a B c", gold) == [(0, 2, 1, 2)]


def test_edits_out_of_the_sentence_are_not_gold_and_warned_about():
    with pytest.warns(M2Warning, match=r"<m2>:3: edit span 5 6 outside the sentence \(0\.\.2\); scored as NUS"):
        gold = parse_m2("S a b\nA 1 2|||X|||c|||REQUIRED|||-NONE-|||0\nA 5 6|||X|||d|||REQUIRED|||-NONE-|||0\n")
    assert gold[0].annotations == ((0, (GoldEdit(1, 2, "b", ("c",)),)),)


def test_annotator_choice_uses_running_totals():
    # sentence 1: only annotator 0; sentence 2: annotator 0 wants an edit, annotator 1 nothing
    gold = parse_m2(
        "S a b\nA 1 2|||X|||c|||REQUIRED|||-NONE-|||0\n\n"
        "S d e\nA 0 1|||X|||f|||REQUIRED|||-NONE-|||0\nA -1 -1|||noop|||-NONE-|||-NONE-|||-NONE-|||1\n"
    )
    results = M2Scorer().score_sentences(["a c", "d e"], gold)
    assert [r.stats.annotator for r in results] == [0, 1]  # missing nothing beats missing one
    rows, _ = nus.ref_corpus(["a c", "d e"], [g.source for g in gold], [nus.nus_gold(g) for g in gold])
    assert [r[0] for r in rows] == [0, 1]


def test_ignore_whitespace_casing_drops_case_only_edits():
    gold = one("The cat", (0, 1, "A"))
    assert our_rows("the cat", gold, iwc=True) == ref_rows("the cat", gold, iwc=True) == [(0, 0, 0, 1)]
    assert our_rows("the cat", gold) == [(0, 0, 1, 1)]


def test_annotators_in_ascending_id_order():
    gold = parse_m2("S a b\nA 0 1|||X|||c|||REQUIRED|||-NONE-|||3\nA 1 2|||X|||d|||REQUIRED|||-NONE-|||1\n")
    assert [ann for ann, _ in gold[0].annotations] == [1, 3]


def test_multi_sentence_block_follows_nus():
    with pytest.warns(M2Warning, match=r"<m2>:2: 'S' line without a blank line before it"):
        gold = parse_m2("S a b\nS c d\nA 0 1|||X|||A|||REQUIRED|||-NONE-|||0\nA 3 4|||X|||D|||REQUIRED|||-NONE-|||0\n")
    assert [g.source for g in gold] == ["a b", "c d"]
    assert [len(g.annotations[0][1]) for g in gold] == [1, 2]  # edits up to each sentence's end


def test_signature_pins_every_setting():
    sigs = {M2Scorer(b, m, i).signature for b in (0.5, 1.0) for m in (2, 3) for i in (False, True)}
    assert len(sigs) == 8
    sig = M2Scorer().signature
    for part in ("beta:0.5", "max_unchanged:2", "ws_case:kept", "version:"):
        assert part in sig


def test_pathological_lattice_is_refused_not_exhausting_memory():
    src = " ".join("abcdefghij"[k % 10] for k in range(40))
    hyp = " ".join("klmnopqrst"[k % 10] for k in range(80))
    gold = GoldSentence(src, ((0, ()),), line=7)
    with pytest.raises(M2Error, match="gold line 7: .*max_lattice_arcs"):
        M2Scorer(max_lattice_arcs=10_000).sentence_stats(hyp, gold)


# ------------------------------------------------------------------------------------------------
# Agreement with the NUS reference
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level, limit", [("word", 18), ("char", 22)])
def test_agrees_with_reference_on_real_nlpcc(shared_data, level, limit):
    gold = [g for g in read_m2(shared_data / "cgec" / f"nlpcc18_test.{level}.m2") if len(g.tokens) <= limit][:150]
    assert len(gold) == 150
    for kind in ("target0", "noisy"):
        hyps = nus.make_hypotheses(gold, kind, seed=7)
        nus.compare(hyps, gold, M2Scorer())  # raises on any per-sentence difference


def _gold_sentences(draw, src: list[str], n_ann: int) -> GoldSentence:
    anns = []
    for a in range(n_ann):
        edits = []
        for _ in range(draw(st.integers(0, 3))):
            s = draw(st.integers(0, len(src)))
            e = min(len(src), s + draw(st.integers(0, 2)))
            alts = tuple(" ".join(draw(st.lists(st.sampled_from("abxA"), max_size=2))) for _ in range(draw(st.integers(1, 2))))
            edits.append(GoldEdit(s, e, " ".join(src[s:e]), alts))
        anns.append((a, tuple(edits)))
    return GoldSentence(" ".join(src), tuple(anns))


@st.composite
def sentence_pairs(draw):
    src = draw(st.lists(st.sampled_from("abA"), max_size=8))
    hyp = list(src)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(("ins", "del", "sub")))
        pos = draw(st.integers(0, len(hyp)))
        if op == "ins" or not hyp:
            hyp.insert(pos, draw(st.sampled_from("abxA")))
        elif op == "del":
            del hyp[min(pos, len(hyp) - 1)]
        else:
            hyp[min(pos, len(hyp) - 1)] = draw(st.sampled_from("abxA"))
    return " ".join(hyp), _gold_sentences(draw, src, draw(st.integers(1, 3)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=sentence_pairs(), mu=st.integers(0, 3), iwc=st.booleans())
def test_property_every_annotator_matches_reference(pair, mu, iwc):
    hyp, gold = pair
    assert our_rows(hyp, gold, mu, iwc) == ref_rows(hyp, gold, mu, iwc)


@st.composite
def local_edit_sentences(draw):
    n = draw(st.integers(1, 10))
    src = [f"w{k}" for k in range(n)]
    starts = sorted(draw(st.sets(st.integers(0, n), max_size=4)))
    edits, cursor, fresh = [], 0, 0
    for s in starts:
        if s < cursor:
            continue
        e = min(n, s + draw(st.integers(0, 2)))
        k = draw(st.integers(0 if e > s else 1, 2))
        corr = " ".join(f"n{fresh + t}" for t in range(k))
        fresh += k
        edits.append((s, e, corr))
        cursor = e if e > s else s + 1  # one insertion per offset, and never inside another edit
    return one(" ".join(src), *edits)


@settings(max_examples=150, deadline=None)
@given(gold=local_edit_sentences())
def test_property_applying_all_local_edits_is_perfect(gold):
    edits = [(e.start, e.end, e.corrections[0]) for e in gold.annotations[0][1]]
    hyp = " ".join(nus.apply_edits(gold.tokens, edits))
    score = corpus_m2([hyp], [gold])
    assert (score.correct, score.proposed, score.gold) == (len(edits),) * 3


# ------------------------------------------------------------------------------------------------
# Input handling
# ------------------------------------------------------------------------------------------------


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def run_main(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_count_mismatch_names_both_counts(tmp_path, capsys):
    gold = write(tmp_path / "g.m2", EXAMPLE_GOLD)
    sys_ = write(tmp_path / "s.txt", "A cat sat on the mat .\n")
    code, out, err = run_main(capsys, sys_, gold)
    assert code == 2 and out == ""
    assert "has 1 hypotheses" in err and "has 3 sentences" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(M2Error, match=r"\(1\) differs .* \(3\)"):
        corpus_m2(["x"], parse_m2(EXAMPLE_GOLD))


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("A 1 2|||X|||c", "malformed A line"),
        ("A one 2|||X|||c|||REQUIRED|||-NONE-|||0", "offsets"),
        ("A 1|||X|||c|||REQUIRED|||-NONE-|||0", "offsets"),
        ("A 1 2|||X|||c|||REQUIRED|||-NONE-|||zero", "annotator id"),
        ("Q something", "unexpected line"),
    ],
)
def test_malformed_gold_line_names_file_and_line(tmp_path, capsys, bad_line, message):
    gold = write(tmp_path / "g.m2", f"S a b\nA 0 1|||X|||c|||REQUIRED|||-NONE-|||0\n\nS c d\n{bad_line}\n")
    sys_ = write(tmp_path / "s.txt", "a b\nc d\n")
    with pytest.raises(M2Error, match=rf"g\.m2:5: .*{message}"):
        read_m2(gold)
    code, _, err = run_main(capsys, sys_, gold)
    assert code == 2 and "g.m2:5:" in err and "Traceback" not in err


def test_block_must_start_with_s_line(tmp_path):
    with pytest.raises(M2Error, match=r"g\.m2:3: a block must start"):
        read_m2(write(tmp_path / "g.m2", "S a\n\nA 0 1|||X|||c|||REQUIRED|||-NONE-|||0\n"))


def test_invalid_utf8_names_file_and_line(tmp_path, capsys):
    gold = write(tmp_path / "g.m2", b"S a b\n\nS c \xff d\n")
    with pytest.raises(InputError, match=r"g\.m2:3: invalid UTF-8"):
        read_m2(gold)
    sys_ = write(tmp_path / "s.txt", b"a b\n\xe4\xb8\n")
    with pytest.raises(InputError, match=r"s\.txt:2: invalid UTF-8"):
        read_hypotheses(sys_)
    code, _, err = run_main(capsys, sys_, write(tmp_path / "ok.m2", "S a b\n\nS c d\n"))
    assert code == 2 and "s.txt:2: invalid UTF-8" in err


def test_crlf_bom_t_lines_and_empty_hypotheses(tmp_path):
    lf = parse_m2(EXAMPLE_GOLD)
    crlf = "\ufeff" + EXAMPLE_GOLD.replace("\n", "\r\n").replace("S The dog .\r\n", "S The dog .\r\nT0-A0 The dogs .\r\n")
    gold = read_m2(write(tmp_path / "g.m2", crlf))
    assert gold == [GoldSentence(g.source, g.annotations, g2.line) for g, g2 in zip(lf, gold)]
    hyps = read_hypotheses(write(tmp_path / "s.txt", "\ufeff" + EXAMPLE_SYSTEM.replace("\n", "\r\n")))
    assert hyps == EXAMPLE_SYSTEM.splitlines()
    assert read_hypotheses(write(tmp_path / "e.txt", "a\n\n\n")) == ["a", "", ""]
    empty = corpus_m2(["", "", ""], lf)
    assert empty.sentences == 3 and empty.correct >= 1


def test_missing_file_exits_2(tmp_path, capsys):
    code, _, err = run_main(capsys, tmp_path / "none.txt", tmp_path / "none.m2")
    assert code == 2 and "none.m2" in err


def test_empty_gold_and_empty_system_is_an_error_not_f1(tmp_path, capsys):
    gold, sys_ = write(tmp_path / "g.m2", ""), write(tmp_path / "s.txt", "")
    code, out, err = run_main(capsys, sys_, gold)
    assert code == 2 and out == ""
    assert err == f"tlm-m2: error: {gold}: no sentences to score (the gold M2 input holds no block)\n"
    with pytest.raises(M2Error, match="no sentences to score"):
        corpus_m2([], [])
    with pytest.raises(M2Error, match="no sentences to score"):
        M2Scorer().score_from_results([])
    # blank lines only: still no block
    code, _, err = run_main(capsys, sys_, write(tmp_path / "blank.m2", "\n \n\n"))
    assert code == 2 and "no sentences to score" in err


MALFORMED_GOLD = """S a b c d e
A 4 3|||R|||x|||REQUIRED|||-NONE-|||0
A 1 2|||R|||B|||REQUIRED|||-NONE-|||0

S f g
A -2 1|||R|||x|||REQUIRED|||-NONE-|||0
A 5 3|||R|||y|||REQUIRED|||-NONE-|||0
A 1 9|||R|||y|||REQUIRED|||-NONE-|||0
S h i
A 2 1|||R|||z|||REQUIRED|||-NONE-|||0
"""


def test_malformed_gold_warns_once_per_kind_and_scores_like_nus(tmp_path, capsys):
    gold = write(tmp_path / "g.m2", MALFORMED_GOLD)
    sys_ = write(tmp_path / "s.txt", "a B c d e\nf g\nh i\n")
    code, out, err = run_main(capsys, sys_, gold, "--json")
    assert code == 0
    assert err.splitlines() == [
        f"tlm-m2: warning: {gold}:2: edit span 4 3 starts after it ends (2 lines like this; the first shown); "
        "scored as NUS 3.2 does: a gold edit that no system edit can match",
        f"tlm-m2: warning: {gold}:6: edit span -2 1 is negative (only a noop may be '-1 -1'); "
        "scored as NUS 3.2 does: not a gold edit",
        f"tlm-m2: warning: {gold}:7: edit span 5 3 outside the sentence (0..4) (2 lines like this; the first "
        "shown); scored as NUS 3.2 does: not a gold edit",
        f"tlm-m2: warning: {gold}:9: 'S' line without a blank line before it (each block must be followed by a "
        "blank line); scored as NUS 3.2 does: one block of several sentences, edit offsets counted from its "
        "first 'S' line",
    ]
    data = json.loads(out)
    # NUS 3.2: 'A 4 3' stays a gold edit of sentence 1; the joined block 'f g' + 'h i' keeps 'A 2 1'
    # (within both sentences' running token counts) for each of its sentences; the rest are dropped
    assert (data["sentences"], data["correct"], data["proposed"], data["gold"]) == (3, 1, 1, 2 + 1 + 1)
    gold_sents = parse_m2(MALFORMED_GOLD, collect=M2Warnings())
    hyps = read_hypotheses(sys_)
    rows, prf = nus.ref_corpus(hyps, [g.source for g in gold_sents], [nus.nus_gold(g) for g in gold_sents])
    assert [r[1:] for r in rows] == [(1, 1, 2), (0, 0, 1), (0, 0, 1)]
    assert prf == (data["precision"], data["recall"], data["f"])


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------


def test_cli_json_and_verbose(tmp_path, capsys):
    gold = write(tmp_path / "g.m2", EXAMPLE_GOLD)
    sys_ = write(tmp_path / "s.txt", EXAMPLE_SYSTEM)
    code, out, _ = run_main(capsys, sys_, gold, "--json")
    data = json.loads(out)
    assert code == 0
    assert {k: data[k] for k in ("correct", "proposed", "gold", "sentences", "beta")} == \
        {"correct": 4, "proposed": 5, "gold": 5, "sentences": 3, "beta": 0.5}
    assert data["precision"] == data["recall"] == data["f"] == pytest.approx(0.8)
    assert data["signature"] == M2Scorer().signature
    code, out, _ = run_main(capsys, sys_, gold, "-v", "--beta", "1")
    lines = out.splitlines()
    assert code == 0 and lines[-1] == "F_1.0       : 0.8000"
    assert ">> Chosen Annotator for line 3 : 0" in out
    assert "SOURCE        : Giant otters is an apex predator ." in out
    assert "CORRECT EDITS : [(2, 3, 'is', 'are'), (3, 4, 'an', '')]" in out


def test_cli_subprocess_prints_exactly_three_lines(tmp_path):
    """The real entry (python -m); error exits are covered in-process through main()."""
    gold = write(tmp_path / "g.m2", EXAMPLE_GOLD)
    sys_ = write(tmp_path / "s.txt", EXAMPLE_SYSTEM)
    ok = run([PY, "-m", "tlm_fairseq.scoring.m2", sys_, gold], timeout=300)
    assert ok.stdout == "Precision   : 0.8000\nRecall      : 0.8000\nF_0.5       : 0.8000\n" and ok.stderr == ""
    bad = run([PY, "-m", "tlm_fairseq.scoring.m2", sys_, gold, "--beta"], check=False)
    assert bad.returncode == 2 and bad.stderr == "tlm-m2: error: argument --beta: expected one argument\n"


def test_oversized_sentence_error_or_unmerged_fallback(tmp_path):
    """An unrelated hypothesis blows NUS's lattice up: error by default, or scored without merging."""
    src = " ".join("abcdefghij"[i % 10] for i in range(60))
    gold = parse_m2(f"S {src}\nA 0 1|||R|||z|||REQUIRED|||-NONE-|||0\n\n")
    hyp = " ".join("klmnopqrst"[(i * 7) % 10] for i in range(90))
    small = M2Scorer(max_lattice_arcs=10_000)
    with pytest.raises(M2Error, match="--oversized unmerged"):
        small.corpus_score([hyp], gold)
    fallback = M2Scorer(max_lattice_arcs=10_000, oversized="unmerged").corpus_score([hyp], gold)
    assert fallback.unmerged_sentences == 1 and "oversized:unmerged" in fallback.signature
    assert fallback.proposed > 0 and fallback.gold == 1
    exact = M2Scorer(max_unchanged_words=0, max_lattice_arcs=None).corpus_score([hyp], gold)
    assert (fallback.correct, fallback.proposed) == (exact.correct, exact.proposed)
    with pytest.raises(M2Error, match="oversized must be one of error, unmerged"):
        M2Scorer(oversized="skip")


def test_scorer_and_cli_import_neither_torch_nor_fairseq(shared_data):
    """The scorer is torch-free: ``tlm-m2`` starts in milliseconds and installs without torch."""
    example = shared_data / "m2_example"
    probe = (
        "import sys\n"
        "import tlm_fairseq.scoring.m2, tlm_fairseq.scoring.m2.cli\n"
        "rc = tlm_fairseq.scoring.m2.cli.main(sys.argv[1:])\n"
        "print(sorted(m for m in ('torch', 'fairseq') if m in sys.modules))\n"
        "sys.exit(rc)\n"
    )
    result = run([PY, "-c", probe, example / "system", example / "source_gold"])
    assert result.stdout.splitlines() == [
        "Precision   : 0.8000", "Recall      : 0.8000", "F_0.5       : 0.8000", "[]"]
