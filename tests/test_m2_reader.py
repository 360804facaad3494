"""The one M2 reader: strict (preprocessing) and warning (scoring) modes agree on what is malformed,
blocks round-trip losslessly, and random input never escapes as anything but InputError/M2Error.
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preprocess.cgec.m2 import read_m2 as read_m2_strict
from preprocess.cgec.m2 import targets
from preprocess.cgec.readers import read_m2_pairs
from tlm_fairseq.errors import InputError, UserError
from tlm_fairseq.scoring.m2 import (
    M2Block,
    M2Edit,
    M2Error,
    M2InputError,
    M2Note,
    M2Scorer,
    M2Source,
    M2Warning,
    M2Warnings,
    format_blocks,
    gold_sentences,
    parse_blocks,
    parse_m2,
    read_blocks,
    write_blocks,
)
from tlm_fairseq.scoring.m2.reader import text_lines


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def parse(text: str, strict: bool, collect: M2Warnings | None = None) -> list[M2Block]:
    return list(parse_blocks(text_lines(text), "g.m2", strict, collect if collect is not None else M2Warnings()))


# ------------------------------------------------------------------------------------------------
# What is malformed: the same verdict in both modes, an error or a counted warning
# ------------------------------------------------------------------------------------------------

EDIT = "|||R|||x|||REQUIRED|||-NONE-|||0"


@pytest.mark.parametrize("text, kind, line, detail", [
    (f"S a b c\nA 3 1{EDIT}\n", "span_order", 2, "edit span 3 1 starts after it ends"),
    (f"S a b c\nA -2 1{EDIT}\n", "negative_span", 2, "edit span -2 1 is negative"),
    (f"S a b c\nA 0 -1{EDIT}\n", "negative_span", 2, "edit span 0 -1 is negative"),
    (f"S a b c\nA 2 4{EDIT}\n", "out_of_range", 2, r"edit span 2 4 outside the sentence \(0\.\.3\)"),
    (f"S a b c\nA 5 5{EDIT}\n", "out_of_range", 2, r"edit span 5 5 outside the sentence \(0\.\.3\)"),
    (f"S a b\nA 0 1{EDIT}\nS c d\nA 0 1{EDIT}\n", "missing_separator", 3, "'S' line without a blank line"),
    ("S a b\nS c d\n", "missing_separator", 2, "'S' line without a blank line"),
])
def test_scorable_malformed_line_is_an_error_when_strict_and_a_warning_otherwise(tmp_path, text, kind, line, detail):
    path = write(tmp_path / "g.m2", "S ok\n\n" + text)
    with pytest.raises(M2InputError, match=rf"g\.m2:{line + 2}: {detail}"):
        list(read_blocks(path, strict=True))
    with pytest.raises(InputError, match=rf"g\.m2:{line + 2}: {detail}"):  # what tlm-prep-cgec reads with
        list(read_m2_pairs(path))
    found = M2Warnings()
    blocks = list(read_blocks(path, collect=found))
    assert len(found) == found.count(kind) == 1 and len(blocks) == 2
    [warning] = found.lines()
    assert warning.startswith(f"{path}:{line + 2}: ") and "scored as NUS 3.2 does" in warning
    with pytest.warns(M2Warning, match=detail):  # a library caller without a collector is told too
        list(read_blocks(path))


def test_noop_edits_are_never_malformed():
    text = ("S a b\nA -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0\nA 7 3|||noop|||-NONE-|||REQUIRED|||-NONE-|||1\n"
            "A -1 -1|||R|||x|||REQUIRED|||-NONE-|||2\n")
    found = M2Warnings()
    [block] = parse(text, False, found)
    assert len(found) == 0 and parse(text, True) == [block]
    assert all(e.is_noop for e in block.edits)
    assert targets(block, None) == [["a", "b"]] * 3  # one target per annotator, each unchanged


@pytest.mark.parametrize("text, line, message", [
    ("S a b\nA 0 1|||R|||x\n", 2, r"malformed A line \(expected 6 '\|\|\|'-separated fields, got 3\)"),
    ("S a b\nA 0 1|||R|||x|||REQUIRED|||-NONE-\n", 2, r"malformed A line \(expected 6 '[|]{3}'-separated fields, got 5\)"),
    ("S a b\nA 0 x|||R|||x|||REQUIRED|||-NONE-|||0\n", 2, r"malformed A line \(offsets '0 x' are not two integers\)"),
    ("S a b\nA 0 1 2|||R|||x|||REQUIRED|||-NONE-|||0\n", 2, r"malformed A line \(offsets '0 1 2' are not two integers\)"),
    ("S a b\nA 0 1|||R|||x|||REQUIRED|||-NONE-|||zero\n", 2, r"malformed A line \(annotator id 'zero' is not an integer\)"),
    ("S a b\nQ what\n", 2, "unexpected line in an M2 block"),
    ("S a b\n\nA 0 1|||R|||x|||REQUIRED|||-NONE-|||0\n", 3, "a block must start with an 'S' line"),
    ("T0-A0 a b\nS a b\n", 1, "a block must start with an 'S' line"),
])
def test_unreadable_line_is_an_error_in_every_mode(text, line, message):
    for strict in (True, False):
        with pytest.raises(M2InputError, match=rf"^g\.m2:{line}: {message}"):
            parse(text, strict)


def test_three_field_a_line_is_refused_by_scoring_and_preprocessing_alike(tmp_path):
    path = write(tmp_path / "g.m2", "S a b\nA 0 1|||R|||x\n")
    errors = []
    for read in (lambda: parse_m2(path.read_text(), str(path)), lambda: list(read_m2_strict(path)),
                 lambda: list(read_m2_pairs(path))):
        with pytest.raises(M2InputError) as info:
            read()
        errors.append(str(info.value))
    assert len(set(errors)) == 1 and errors[0].startswith(f"{path}:2: malformed A line")


def test_cherrant_t_and_i_lines_are_read_kept_and_written_back(tmp_path):
    text = ("S 我 喜 欢 苹 果\nT0-A0 我 喜 欢 吃 苹 果\nA 3 3|||M|||吃|||REQUIRED|||-NONE-|||0\n"
            "I a comment line\nT1-A1 我 爱 苹 果\nA 1 3|||S|||爱||喜爱|||REQUIRED|||-NONE-|||1\n\n")
    path = write(tmp_path / "t.m2", text)
    [block] = read_m2_strict(path)
    assert [type(x) for x in block.lines] == [M2Source, M2Note, M2Edit, M2Note, M2Note, M2Edit]
    assert targets(block, 0) == [list("我喜欢吃苹果")] and targets(block, "1") == [list("我爱苹果")]
    assert format_blocks([block]) == text
    [gold] = parse_m2(text)
    assert [ann for ann, _ in gold.annotations] == [0, 1]
    assert gold.annotations[1][1][0].corrections == ("爱", "喜爱")


def test_writer_is_lossless_on_every_field():
    text = ("S a b c\nA 0 1|||R:X|||-NONE-|||OPTIONAL|||a comment|||3|||extra|||more\n"
            "A 1 1|||M||| x ||y|||REQUIRED|||-NONE-|||3\n\nS \n\n")
    blocks = parse(text, True)
    assert format_blocks(blocks) == text
    buf = io.StringIO()
    write_blocks(blocks, buf)
    assert buf.getvalue() == text
    e = blocks[0].edits[0]
    assert (e.extra, e.comment, e.required, e.correction) == (("extra", "more"), "a comment", "OPTIONAL", ())
    assert blocks[0].edits[1].correction == ("x",) and blocks[1].tokens == ()


def test_annotator_ids_are_integers_on_both_sides():
    [block] = parse(f"S a b\nA 0 1|||R|||x|||REQUIRED|||-NONE-|||007\n", True)
    assert block.annotators() == [7] and block.edits[0].to_line().endswith("|||7")
    assert targets(block, "7") == [["x", "b"]] == targets(block, 7)
    with pytest.raises(UserError, match="an M2 annotator id is an integer, got 'first'"):
        targets(block, "first")


def test_crlf_bom_and_missing_final_newline(tmp_path):
    clean = "S a b\nA 0 1|||R|||x|||REQUIRED|||-NONE-|||0\n\nS c\n"
    dirty = write(tmp_path / "d.m2", "\ufeff" + clean.replace("\n", "\r\n").rstrip("\r\n"))
    assert list(read_blocks(dirty, strict=True)) == parse(clean, True)


# ------------------------------------------------------------------------------------------------
# Property-based: round trip, agreement of the two modes, garbage, scorer range
# ------------------------------------------------------------------------------------------------

token = st.text(st.characters(blacklist_categories=("Z", "C"), blacklist_characters="|"), min_size=1, max_size=3)
# Non-empty fields without '|': an empty field beside a '||' would make any M2 line ambiguous.
field_text = st.text(st.characters(blacklist_categories=("C",), blacklist_characters="|\r\n"), min_size=1, max_size=6)


@st.composite
def edits(draw, n: int) -> M2Edit:
    if draw(st.integers(0, 5)) == 0:
        return M2Edit(-1, -1, "noop", (draw(field_text),), draw(field_text), draw(field_text), draw(st.integers(0, 3)))
    start = draw(st.integers(0, n))
    end = draw(st.integers(start, n))
    etype = draw(field_text.filter(lambda t: t != "noop"))
    alts = tuple(draw(st.lists(field_text, min_size=1, max_size=3)))
    return M2Edit(start, end, etype, alts, draw(field_text), draw(field_text), draw(st.integers(-2, 12)),
                  tuple(draw(st.lists(field_text, max_size=2))))


notes = st.one_of(
    st.builds(lambda k, a, toks: M2Note(f"T{k}-A{a} " + " ".join(toks)), st.integers(0, 3), st.integers(0, 3),
              st.lists(token, max_size=4)),
    st.builds(lambda t: M2Note("I " + t), field_text),
)


@st.composite
def blocks(draw) -> M2Block:
    tokens = tuple(draw(st.lists(token, max_size=6)))
    rest = draw(st.lists(st.one_of(edits(len(tokens)), notes), max_size=5))
    return M2Block((M2Source(tokens), *rest))


@settings(max_examples=300, deadline=None)
@given(st.lists(blocks(), max_size=5))
def test_property_well_formed_blocks_round_trip(original):
    text = format_blocks(original)
    found = M2Warnings()
    strict = parse(text, True)
    assert strict == parse(text, False, found) == original and len(found) == 0
    assert format_blocks(strict) == text
    for block in strict:  # preprocessing can build a target from every edit set of every annotator
        assert len(targets(block, None)) >= 1


@settings(max_examples=200, deadline=None)
@given(st.lists(blocks(), min_size=1, max_size=4))
def test_property_blocks_run_together_round_trip_in_warning_mode(original):
    """Blocks without blank lines between them are kept as read, S lines included."""
    merged = [M2Block(tuple(x for b in original for x in b.lines))]
    text = format_blocks(merged)
    found = M2Warnings()
    assert parse(text, False, found) == merged and format_blocks(parse(text, False)) == text
    assert len(found) == found.count("missing_separator") == len(original) - 1


FRAGMENTS = ["S", "A", "T", "I", " ", "  ", "|||", "||", "|", "-1", "0", "1", "2", "3", "-2", "x", "noop",
             "-NONE-", "REQUIRED", "\t", "\r", "T0-A0", "99999999999999999999", "\u0661", "\u2028", "\ufeff",
             "\n", "\n", "\n", "\n\n"]
garbage = st.one_of(st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join), st.text(max_size=200))


def outcome(text: str, strict: bool) -> tuple[str, object]:
    """("ok", number of warnings) or ("error", message); anything else escaping fails the test."""
    found = M2Warnings()
    try:
        parse(text, strict, found)
    except (InputError, M2Error) as exc:
        return "error", str(exc)
    return "ok", len(found)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbage)
def test_property_garbage_raises_only_input_errors_and_both_modes_agree(text):
    strict, lenient = outcome(text, True), outcome(text, False)
    # strict accepts exactly what warning mode accepts without a warning; fatal errors are the same
    if strict[0] == "ok":
        assert lenient == ("ok", 0)
        for block in parse(text, True):
            assert len(targets(block, None)) >= 1
    elif lenient[0] == "error":
        assert lenient == strict
    else:
        assert lenient[1] > 0
    if lenient[0] == "ok":
        gold = parse_m2(text, collect=M2Warnings())
        read = parse(text, False)
        assert gold == [g for b in read for g in gold_sentences(b)] and len(gold) == sum(len(b.sources) for b in read)
        if gold:
            score = M2Scorer().corpus_score([g.source for g in gold], gold)
            assert score.correct == score.proposed == 0 and score.precision == 1.0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_property_bytes_raise_only_input_errors(tmp_path, data):
    path = write(tmp_path / "b.m2", data)
    for strict in (True, False):
        try:
            list(read_blocks(path, strict, M2Warnings()))
        except (InputError, M2Error):
            pass


@st.composite
def scored_inputs(draw) -> list[tuple[M2Block, str]]:
    """Valid gold (each annotator's edits left to right, one per span) and perturbed hypotheses.

    (NUS counts a system edit once per gold edit of the same span it matches, so an annotator
    listing one span twice can push precision above 1; a valid M2 file does not.)
    """
    vocab = ["a", "b", "c", "d"]
    pairs = []
    for _ in range(draw(st.integers(1, 4))):
        src = draw(st.lists(st.sampled_from(vocab), max_size=6))
        block_edits = []
        for ann in range(draw(st.integers(1, 3))):
            if draw(st.integers(0, 4)) == 0:
                block_edits.append(M2Edit(-1, -1, "noop", ("-NONE-",), annotator=ann))
                continue
            cursor = 0
            for start in sorted(draw(st.sets(st.integers(0, len(src)), max_size=3))):
                if start < cursor:
                    continue
                end = min(len(src), start + draw(st.integers(0, 2)))
                alts = tuple(" ".join(draw(st.lists(st.sampled_from(vocab + ["x"]), max_size=2))) or "-NONE-"
                             for _ in range(draw(st.integers(1, 2))))
                block_edits.append(M2Edit(start, end, "R", alts, annotator=ann))
                cursor = end if end > start else start + 1
        hyp = list(src)
        for _ in range(draw(st.integers(0, 3))):
            pos = draw(st.integers(0, len(hyp)))
            if draw(st.booleans()) or not hyp:
                hyp.insert(pos, draw(st.sampled_from(vocab + ["x"])))
            else:
                del hyp[min(pos, len(hyp) - 1)]
        pairs.append((M2Block.of(src, block_edits), " ".join(hyp)))
    return pairs


@settings(max_examples=200, deadline=None)
@given(scored_inputs(), st.sampled_from([0.5, 1.0, 2.0]))
def test_property_scores_are_in_the_unit_interval(pairs, beta):
    gold = parse_m2(format_blocks(b for b, _ in pairs), collect=(found := M2Warnings()))
    assert len(gold) == len(pairs) and len(found) == 0
    score = M2Scorer(beta=beta).corpus_score([h for _, h in pairs], gold)
    for value in (score.precision, score.recall, score.f):
        assert 0.0 <= value <= 1.0
    assert score.correct <= min(score.proposed, score.gold)
