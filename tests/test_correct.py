"""Edits located in the user's text: sentence splitting, the map through normalization, apply/locate."""
from hypothesis import given, settings
from hypothesis import strategies as st

from export.correct import Edit, Sentence, apply_edits, identity_normalizer, locate_edits, split_sentences
from preprocess.cgec.tokenize_zh import normalize, normalize_with_offsets

ZH = "我们你他是的了在有不这个人来去学校老师朋友家天气很好喜欢吃饭看书写字"
TEXTS = st.text(alphabet=st.sampled_from(list(ZH + "。！？；…，“”  \u3000\t\nａＢ１2xé\u0301\ufeff\u200b\u1100\u1161") + ["\u11a8"]),
                max_size=40)


def test_split_sentences_the_way_people_write():
    text = "我今天很高心。你去哪？！“好的。”\n\n  第二行没有句号\r\n……他说；好"
    assert [s.text for s in split_sentences(text)] == ["我今天很高心。", "你去哪？！", "“好的。”", "第二行没有句号", "……", "他说；", "好"]
    assert all(text[s.start:s.end] == s.text for s in split_sentences(text))
    assert split_sentences(" \n\n\t") == []


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_split_sentences_covers_every_visible_character(text):
    sentences = split_sentences(text)
    assert all(text[s.start:s.end] == s.text and s.text == s.text.strip() and s.text for s in sentences)
    assert [s.start for s in sentences] == sorted(s.start for s in sentences)
    covered = {i for s in sentences for i in range(s.start, s.end)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@settings(max_examples=500, deadline=None)
@given(TEXTS)
def test_normalize_with_offsets_is_normalize_with_a_true_map(text):
    norm, spans = normalize_with_offsets(text)
    assert norm == normalize(text) and len(spans) == len(norm)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert [a for a, _ in spans] == sorted(a for a, _ in spans)
    for ch, (a, b) in zip(norm, spans):
        if ch != " ":
            assert normalize(text[a:b]) == ch or len(normalize(text[a:b])) > 1  # NFC-composed parts map together


def test_edits_land_on_what_the_user_typed():
    text = "今天 天气很好１２点。我喜欢吃饭饭。"
    first, second = split_sentences(text)
    norm, spans = normalize_with_offsets(first.text)
    assert norm == "今天 天气很好12点。"
    edits = locate_edits(first, norm, spans, "今天天气很好，12点。")
    assert [e.to_json() for e in edits] == [
        {"start": 2, "end": 3, "original": " ", "correction": "", "type": "delete"},
        {"start": 7, "end": 7, "original": "", "correction": "，", "type": "insert"},
    ]
    norm, spans = normalize_with_offsets(second.text)
    edits += locate_edits(second, norm, spans, "我喜欢吃米饭。")
    assert edits[-1] == Edit(15, 16, "饭", "米")
    assert apply_edits(text, edits) == "今天天气很好，１２点。我喜欢吃米饭。"  # the user's full-width digits stay


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.text(alphabet=st.sampled_from(list(ZH + "。，")), max_size=20))
def test_applying_located_edits_gives_the_correction(text, correction):
    """Whatever the model says, the edits rebuild it exactly from the sentence as the model saw it."""
    for sentence in split_sentences(text):
        norm, spans = normalize_with_offsets(sentence.text)
        if not norm:
            continue
        edits = locate_edits(sentence, norm, spans, correction)
        assert all(text[e.start:e.end] == e.original for e in edits)
        shifted = [Edit(e.start - sentence.start, e.end - sentence.start, e.original, e.correction) for e in edits]
        assert normalize(apply_edits(sentence.text, shifted)) == normalize(correction)


def test_identity_normalizer_for_other_tokenizers():
    s = Sentence(0, 5, "abcde")
    norm, spans = identity_normalizer(s.text)
    assert [e.to_json() for e in locate_edits(s, norm, spans, "abXde")] == [
        {"start": 2, "end": 3, "original": "c", "correction": "X", "type": "replace"}]
