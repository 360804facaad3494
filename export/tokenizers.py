"""Raw input -> model symbols -> raw output, the same way the training data was prepared.

Text models name their tokenizer in ``config.json``: ``zh_char`` is the CGEC character tokenizer of
``preprocess.cgec.tokenize_zh`` (normalize, one token per character, spaces as ``▁``), ``space`` takes
input that is already tokenized, and ``sentencepiece`` mirrors fairseq's ``--bpe sentencepiece``.
Record models turn a Rotowire game into ``(value, entity, type, home/away)`` records with
``preprocess.rotowire`` and write the summary tokens joined by spaces. A copy model's records also
carry each value's extended-vocabulary id (``preprocess.rotowire.extended_vocab``, the numbering
training and ``fairseq-generate`` use), and a copied id decodes to the game's own value string.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .dictionary import SPECIALS, UNK, Dictionary
from .errors import FileProblem, InputProblem
from .model_dir import ModelDir


NSPECIAL = len(SPECIALS)  # fairseq's control symbols, first in every dictionary


class TextCodec(Protocol):
    def encode(self, text: str) -> list[str]: ...

    def decode(self, symbols: list[str]) -> str: ...


class ZhCharCodec:
    """CGEC characters (``preprocess.cgec.tokenize_zh``)."""

    def __init__(self) -> None:
        from preprocess.cgec import tokenize_zh

        self._zh = tokenize_zh

    def encode(self, text: str) -> list[str]:
        return self._zh.tokenize(self._zh.normalize(text))

    def decode(self, symbols: list[str]) -> str:
        return self._zh.detokenize(symbols)


class SpaceCodec:
    """Pre-tokenized text: whitespace separates symbols."""

    def encode(self, text: str) -> list[str]:
        return text.split()

    def decode(self, symbols: list[str]) -> str:
        return " ".join(symbols)


class SentencePieceCodec:
    """fairseq's ``sentencepiece`` BPE: pieces in, pieces joined and ``▁`` turned into spaces out."""

    def __init__(self, model: Path) -> None:
        import sentencepiece as spm

        self._sp = spm.SentencePieceProcessor()
        try:
            self._sp.Load(str(model))
        except (OSError, RuntimeError) as err:
            raise FileProblem(model, f"not a SentencePiece model: {err}") from None

    def encode(self, text: str) -> list[str]:
        return self._sp.Encode(text, out_type=str)

    def decode(self, symbols: list[str]) -> str:
        return "".join(symbols).replace("\u2581", " ").strip()


def text_codec(model: ModelDir) -> TextCodec:
    spec = model.config.tokenizer  # its kind and model were checked when the config was read
    if spec.kind == "zh_char":
        return ZhCharCodec()
    if spec.kind == "sentencepiece":
        assert spec.model is not None
        return SentencePieceCodec(model.file(spec.model))
    return SpaceCodec()


class CopyRecords(np.ndarray):
    """A copy model's encoded game: records ``(S, F + 1)`` whose last column is each record's
    extended id, and :attr:`oov`, the value strings of the extended ids ``V, V + 1, ...``."""

    oov: tuple[str, ...]

    def __array_finalize__(self, obj: Any) -> None:
        self.oov = getattr(obj, "oov", ())


def copied_values(source: np.ndarray) -> tuple[str, ...]:
    """The strings a copy model's extended ids stand for in ``source`` (none for other models)."""
    return getattr(source, "oov", ())


class SourceEncoder:
    """Turns one raw input into the model's source ids: ``(S,)`` tokens or ``(S, 4)`` records."""

    def __init__(self, model: ModelDir) -> None:
        self.task = model.task
        self.max_len = model.config.max_source_positions
        self.dicts = model.source_dicts
        self.codec = text_codec(model) if self.task == "text" else None
        self.fields: list[str] = list(model.config.source.fields or ())
        self.max_records = model.config.source.max_records or self.max_len
        self.target = model.target_dict if model.config.source.copy else None

    def __call__(self, item: Any, index: int) -> np.ndarray:
        if self.task == "text":
            return self._text(item, index)
        return self._records(item, index)

    def _text(self, item: Any, index: int) -> np.ndarray:
        if not isinstance(item, str):
            raise InputProblem(index, f"expected a string, got {type(item).__name__}")
        assert self.codec is not None
        symbols = self.codec.encode(item)
        if not symbols:
            raise InputProblem(index, "empty after normalization")
        ids = self.dicts["tokens"].encode(symbols, append_eos=True)
        if len(ids) > self.max_len:
            raise InputProblem(index, f"{len(ids) - 1} tokens, the model accepts at most {self.max_len - 1}")
        return np.asarray(ids, dtype=np.int64)

    def _records(self, item: Any, index: int) -> np.ndarray:
        if not isinstance(item, Mapping):
            raise InputProblem(index, f"expected a game object, got {type(item).__name__}")
        from preprocess.rotowire.records import RotowireFormatError, extract_records

        game = dict(item)
        game.setdefault("summary", [])  # the summary is what we generate; the extractor wants the key
        try:
            records = extract_records(game, index, self.max_records)
        except RotowireFormatError as err:
            raise InputProblem(index, str(err).split(f"game {index}: ", 1)[-1]) from None
        if not records:
            raise InputProblem(index, "no records in the game")
        columns = [self.dicts[name].encode([r[i] for r in records], append_eos=False) for i, name in enumerate(self.fields)]
        if self.target is None:
            return np.asarray(columns, dtype=np.int64).T.copy()
        from preprocess.rotowire.extended_vocab import extend

        vocab = extend([r[0] for r in records], self.target.indices, len(self.target), NSPECIAL)
        encoded = np.asarray([*columns, vocab.source], dtype=np.int64).T.copy().view(CopyRecords)
        encoded.oov = vocab.oov
        return encoded


class TargetDecoder:
    """Hypothesis ids -> output string (fairseq-generate's ``D-`` line for text models)."""

    def __init__(self, model: ModelDir) -> None:
        self.dictionary: Dictionary = model.target_dict
        self.codec: TextCodec = text_codec(model) if model.task == "text" else SpaceCodec()

    def symbols(self, ids: list[int], oov: Sequence[str] = ()) -> list[str]:
        """Symbols of ``ids``; a copy model's ids from ``V`` up are the game's values ``oov``."""
        if not oov and max(ids, default=0) < len(self.dictionary):
            return self.dictionary.decode(ids)
        from preprocess.rotowire.extended_vocab import ExtendedVocab, decode

        vocab = ExtendedVocab(len(self.dictionary), (), tuple(oov))
        return decode(self.dictionary.shown(ids), vocab, self.dictionary.symbols, UNK)

    def __call__(self, ids: list[int], oov: Sequence[str] = ()) -> str:
        return self.codec.decode(self.symbols(ids, oov))
