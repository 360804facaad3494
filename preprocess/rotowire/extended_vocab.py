"""Per-game extended vocabulary of the copy mechanism (pointer-generator), without torch or fairseq.

See et al. (2017) let a summary copy source words the target vocabulary lacks by giving each
example's out-of-vocabulary source words temporary ids after the vocabulary. Here the source words
are the records' values: a value that is a target-vocabulary symbol keeps that symbol's id, and the
``k``-th distinct other value of the game (in record order) gets id ``vocab_size + k``. A summary
token that is not in the vocabulary but equals one of those values becomes that temporary id (a
copy target) instead of ``<unk>``; any other unknown token stays ``<unk>``. Generated ids map back
to the value strings. The training task, ``fairseq-generate`` and the exported runtime all call
these functions, so the three number the extended vocabulary identically.

Values that spell a special symbol (``<s>``, ``<pad>``, ``</s>``, ``<unk>``) are treated as
out-of-vocabulary words, so copying can never emit a control symbol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ExtendedVocab:
    """One game's extended vocabulary.

    ``source[i]`` is the output id that copying record ``i`` produces; ``oov[k]`` is the value
    string of id ``vocab_size + k``.
    """

    vocab_size: int
    source: tuple[int, ...]
    oov: tuple[str, ...]

    @property
    def size(self) -> int:
        """Output ids of this game: the vocabulary plus its out-of-vocabulary values."""
        return self.vocab_size + len(self.oov)


def extend(values: Sequence[str], index: Mapping[str, int], vocab_size: int, nspecial: int) -> ExtendedVocab:
    """The extended vocabulary of a game whose records have ``values`` (in record order).

    ``index`` maps target symbols to ids (a fairseq ``Dictionary.indices``), ``vocab_size`` is
    the number of ids the model's output layer has, the first ``nspecial`` ids are control symbols.
    """
    oov: dict[str, int] = {}
    source = []
    for value in values:
        known = index.get(value)
        if known is None or known < nspecial or known >= vocab_size:
            known = vocab_size + oov.setdefault(value, len(oov))
        source.append(known)
    return ExtendedVocab(vocab_size, tuple(source), tuple(oov))


def extend_target(tokens: Sequence[str], vocab: ExtendedVocab, index: Mapping[str, int], unk: int) -> list[int]:
    """Target ids of summary ``tokens``: vocabulary ids, copy targets for the game's
    out-of-vocabulary values, ``unk`` for the rest (no ``</s>`` appended)."""
    oov = {value: vocab.vocab_size + k for k, value in enumerate(vocab.oov)}
    ids = []
    for token in tokens:
        copied = oov.get(token)
        if copied is None:
            known = index.get(token, unk)
            copied = known if known < vocab.vocab_size else unk
        ids.append(copied)
    return ids


def decode(ids: Sequence[int], vocab: ExtendedVocab, symbols: Sequence[str], unk_word: str) -> list[str]:
    """Strings of output ``ids``: vocabulary symbols, and value strings for the temporary ids
    (an id past the game's extension, which the model gives probability zero, reads as ``unk_word``)."""
    words = []
    for i in ids:
        if i < vocab.vocab_size:
            words.append(symbols[i])
        else:
            k = i - vocab.vocab_size
            words.append(vocab.oov[k] if k < len(vocab.oov) else unk_word)
    return words
