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
