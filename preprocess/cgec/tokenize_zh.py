"""Text normalization and character-level tokenization for Chinese GEC.

Decisions (documented in tests/data/cgec/README.md as well):

* Normalization is deliberately *narrow*. Full-width ASCII letters and digits (``Ａ``, ``１``)
  become half-width, because they are the same characters typed with a different input mode and
  would otherwise double the vocabulary. Full-width *punctuation* (``，。！？：；（）``) is kept:
  it is the standard Chinese punctuation, the NLPCC/MuCGEC gold M2 files use it, and changing
  it would make the scorer count every comma as a system edit. NFKC is therefore not used.
* Byte-order marks and zero-width characters are removed (MuCGEC's test file has BOMs inside
  lines), control characters are dropped, and every Unicode space (ideographic space, NBSP, tab)
  becomes one ASCII space; runs collapse and the ends are stripped.
* ``▁`` (U+2581) is reserved as the visible token for a space and is normalized to ``_``.
* Tokenization splits *every* character, CJK or Latin or digit, into its own token; a space
  becomes the token ``▁``. Splitting Latin runs too keeps the model's units identical to the
  character-level M2 gold (``1 0 个``), keeps the joined dictionary small, and makes
  ``detokenize(tokenize(normalize(x))) == normalize(x)`` hold for every string.
"""
from __future__ import annotations

import re
import unicodedata

SPACE_TOKEN = "\u2581"
_TABLE = str.maketrans({
    **{chr(0xFF10 + i): chr(0x30 + i) for i in range(10)},  # full-width digits
    **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},  # full-width capitals
    **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},  # full-width small letters
    **{ch: None for ch in "\ufeff\u200b\u200c\u200d\u2060"},  # BOM and zero-width characters
    SPACE_TOKEN: "_",
})
# Control characters that Python does not count as whitespace, and lone surrogates.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")


def normalize(text: str) -> str:
    """Canonical form of a sentence; idempotent (``normalize(normalize(x)) == normalize(x)``)."""
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text.translate(_TABLE)))
    return " ".join(text.split())


def tokenize(text: str) -> list[str]:
    """Split normalized text into one token per character, spaces shown as ``▁``."""
    return [SPACE_TOKEN if ch == " " else ch for ch in text]


def detokenize(tokens: list[str] | str) -> str:
    """Inverse of :func:`tokenize`; accepts a token list or a space-separated token string."""
    if isinstance(tokens, str):
        tokens = tokens.split()
    return "".join(tokens).replace(SPACE_TOKEN, " ").strip()


def m2_chars(text: str) -> list[str]:
    """Characters as the character-level M2 files count them: every non-space character."""
    return [ch for ch in text if not ch.isspace()]


def normalize_with_offsets(text: str) -> tuple[str, list[tuple[int, int]]]:
    """:func:`normalize` plus, for each character of the result, the span of ``text`` it came from.

    Serving shows a correction's edits at their places in what the user typed, while the model
    sees normalized text; this is the map back. The string returned equals ``normalize(text)``.
    Characters that NFC composes map to the span of all their parts; a space that stands for a
    run of whitespace maps to the whole run.
    """
    pieces: list[tuple[str, int]] = []  # after translation and control removal
    for index, ch in enumerate(text):
        for out in _CONTROL.sub("", ch.translate(_TABLE)):
            pieces.append((out, index))
    composed: list[tuple[str, int, int]] = []  # NFC, segment by segment
    segment: list[tuple[str, int]] = []

    def flush() -> None:
        if segment:
            raw = "".join(c for c, _ in segment)
            nfc = unicodedata.normalize("NFC", raw)
            if nfc == raw:  # nothing composed: every character keeps its own place
                composed.extend((c, index, index + 1) for c, index in segment)
            else:
                start, end = segment[0][1], segment[-1][1] + 1
                composed.extend((c, start, end) for c in nfc)
            segment.clear()

    for ch, index in pieces:
        if segment:
            joined = "".join(c for c, _ in segment)
            if unicodedata.combining(ch) or unicodedata.normalize("NFC", joined + ch) != (
                    unicodedata.normalize("NFC", joined) + unicodedata.normalize("NFC", ch)):
                segment.append((ch, index))
                continue
            flush()
        segment.append((ch, index))
    flush()
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    space: tuple[int, int] | None = None
    for ch, start, end in composed:
        if ch.isspace():
            space = (space[0], end) if space else (start, end)
            continue
        if space and chars:
            chars.append(" ")
            spans.append(space)
        space = None
        chars.append(ch)
        spans.append((start, end))
    result = "".join(chars)
    if result != normalize(text):  # never expected; keep the promise with a coarse but true map
        return normalize(text), [(0, len(text))] * len(normalize(text))
    return result, spans
