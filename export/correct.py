"""Corrections shown where the user typed them: sentence splitting, edits located in the original text.

The model sees one normalized sentence at a time; a reader wants the whole text back with each
change marked at its place. :func:`split_sentences` cuts text the way people write it (after
``。！？；…`` and at line breaks), :func:`locate_edits` aligns a normalized source with the model's
correction using the same character alignment that builds the M2 training edits
(``preprocess.cgec.align.diff_spans``) and maps every edit back through the normalization, and
:func:`apply_edits` rebuilds the corrected text around what the user typed (their spacing, their
full-width digits), changing only what the model changed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

from preprocess.cgec.align import diff_spans
from preprocess.cgec.hyp import restore_unk

SENTENCE_ENDS = frozenset("。！？；…!?;")
CLOSERS = frozenset("”’」』）)》〉】\"'")
LINE_BREAKS = frozenset("\n\r\u2028\u2029\x85")

Normalizer = Callable[[str], "tuple[str, list[tuple[int, int]]]"]


@dataclass(frozen=True)
class Sentence:
    """A sentence of the user's text: ``text == whole[start:end]``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Edit:
    """One change, located in the user's text: ``original == whole[start:end]``."""

    start: int
    end: int
    original: str
    correction: str

    @property
    def kind(self) -> str:
        return "insert" if not self.original else "delete" if not self.correction else "replace"

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "type": self.kind}


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with their spans: a run of end marks (``？！``, ``……``) and the closing quotes or
    brackets after it stay with their sentence; line breaks end a sentence and belong to none.
    Sentences that are only whitespace are left out."""
    sentences: list[Sentence] = []
    start, i, n = 0, 0, len(text)

    def close(end: int) -> None:
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece.rstrip())
            sentences.append(Sentence(start + lead, start + trail, piece.strip()))

    while i < n:
        ch = text[i]
        if ch in LINE_BREAKS:
            close(i)
            start = i = i + 1
        elif ch in SENTENCE_ENDS:
            while i < n and text[i] in SENTENCE_ENDS:
                i += 1
            while i < n and text[i] in CLOSERS:
                i += 1
            close(i)
            start = i
        else:
            i += 1
    close(n)
    return sentences


def identity_normalizer(text: str) -> tuple[str, list[tuple[int, int]]]:
    """For tokenizers that do not normalize: every character maps to itself."""
    return text, [(i, i + 1) for i in range(len(text))]


def locate_edits(sentence: Sentence, normalized: str, spans: list[tuple[int, int]], correction: str) -> list[Edit]:
    """Character edits turning ``normalized`` (the sentence as the model saw it) into ``correction``,
    located in the user's whole text (``spans[k]`` is where ``normalized[k]`` came from, relative
    to the sentence)."""
    text, base = sentence.text, sentence.start
    edits: list[Edit] = []
    for s0, s1, t0, t1 in diff_spans(list(normalized), list(correction)):
        if s1 > s0:
            start, end = spans[s0][0], spans[s1 - 1][1]
        else:  # an insertion goes before the next kept character, or after the last one
            start = end = spans[s0][0] if s0 < len(spans) else (spans[-1][1] if spans else 0)
        edits.append(Edit(base + start, base + end, text[start:end], correction[t0:t1]))
    return edits


def apply_edits(text: str, edits: list[Edit]) -> str:
    """``text`` with every edit applied (edits are sorted and do not overlap)."""
    out: list[str] = []
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(text[pos:edit.start])
        out.append(edit.correction)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


@dataclass(frozen=True)
class TextModel:
    """What correcting needs from a text model: its tokenizer both ways and its target symbols."""

    encode: Callable[[str], list[str]]  # raw sentence -> source symbols (normalizes first)
    decode: Callable[[list[str]], str]  # target symbols -> text
    normalize: Normalizer  # raw sentence -> (what the model sees, map back)
    vocabulary: frozenset[str]  # target symbols: anything else in the source is restored for <unk>


def correct_sentence(model: TextModel, sentence: Sentence, hypothesis: list[str]) -> tuple[str, list[Edit]]:
    """The corrected sentence (``<unk>`` restored from the source) and its edits in the whole text."""
    symbols = restore_unk(hypothesis, model.encode(sentence.text), model.vocabulary)
    correction = model.decode(symbols)
    normalized, spans = model.normalize(sentence.text)
    return correction, locate_edits(sentence, normalized, spans, correction)


def correction_reply(model: TextModel, text: str, sentences: list[Sentence],
                     hypotheses: list[list[str]]) -> dict[str, object]:
    """The ``/v1/correct`` answer: per sentence and for the whole text, with the edits in order."""
    edits: list[Edit] = []
    per_sentence = []
    for sentence, hypothesis in zip(sentences, hypotheses):
        correction, found = correct_sentence(model, sentence, hypothesis)
        edits += found
        per_sentence.append({"start": sentence.start, "end": sentence.end, "source": sentence.text,
                             "correction": correction, "edits": [e.to_json() for e in found]})
    return {"text": text, "corrected": apply_edits(text, edits), "sentences": per_sentence,
            "edits": [e.to_json() for e in edits]}
