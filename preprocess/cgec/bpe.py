"""The two segmentations a CGEC model can use: characters, or SentencePiece trained on train.

Both expose ``encode(text) -> tokens`` and ``decode(tokens) -> text`` on *normalized* text and
round-trip exactly, so evaluation can turn a hypothesis back into a sentence. The choice and the
model file are recorded in ``prep.json`` inside the data-bin so that evaluation cannot decode
with a different segmentation than training used.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Protocol

from . import tokenize_zh
from tlm_fairseq.errors import UserError

META_NAME = "prep.json"
SPM_NAME = "spm.model"


class Segmenter(Protocol):
    name: str

    def encode(self, text: str) -> list[str]: ...

    def decode(self, tokens: list[str]) -> str: ...


class CharSegmenter:
    """One token per character (see :mod:`preprocess.cgec.tokenize_zh`)."""

    name = "char"

    def encode(self, text: str) -> list[str]:
        return tokenize_zh.tokenize(text)

    def decode(self, tokens: list[str]) -> str:
        return tokenize_zh.detokenize(tokens)


class SpmSegmenter:
    """SentencePiece pieces; the model is trained without its own normalization (ours applies)."""

    name = "sentencepiece"

    def __init__(self, model_path: str | os.PathLike[str]) -> None:
        import sentencepiece as spm

        self.model_path = Path(model_path)
        self._sp = spm.SentencePieceProcessor(model_file=str(model_path))

    def encode(self, text: str) -> list[str]:
        return list(self._sp.encode(text, out_type=str))

    def decode(self, tokens: list[str]) -> str:
        # A space unseen in training is encoded as the bytes of "▁", which decode to a literal
        # "▁"; normalized text never contains that character, so it can only mean a space.
        return str(self._sp.decode_pieces(tokens)).replace(tokenize_zh.SPACE_TOKEN, " ")


def train_spm(texts: Iterable[str], model_path: str | os.PathLike[str], vocab_size: int, threads: int = 1) -> SpmSegmenter:
    """Train a unigram SentencePiece model on ``texts`` and save it atomically at ``model_path``.

    ``identity`` normalization keeps SentencePiece from applying NFKC behind our back (it would
    turn ``，`` into ``,`` and break the round trip); ``byte_fallback`` makes rare characters
    encodable without ``<unk>``; no dummy prefix, because Chinese has no leading spaces.
    """
    target = Path(model_path)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        prefix = os.path.join(tmp, "spm")
        try:
            _train(texts, prefix, vocab_size, threads)
        except RuntimeError as exc:
            m = re.search(r"smaller than required_chars\. (\d+) vs (\d+)", str(exc))
            if m:
                raise UserError(
                    f"--spm-vocab-size {m.group(1)} is smaller than the {m.group(2)} characters SentencePiece must "
                    f"cover in the training split; use at least {int(m.group(2)) + 100}"
                ) from None
            raise UserError(f"SentencePiece training failed: {exc}") from None
        shutil.move(prefix + ".model", target)
    return SpmSegmenter(target)


def _train(texts: Iterable[str], prefix: str, vocab_size: int, threads: int) -> None:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_prefix=prefix,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=0.9995,
        normalization_rule_name="identity",
        add_dummy_prefix=False,
        byte_fallback=True,
        hard_vocab_limit=False,
        num_threads=threads,
        minloglevel=2,
    )


def write_meta(data_bin: str | os.PathLike[str], meta: dict[str, object]) -> None:
    """Record how the data was prepared next to the binarized files."""
    Path(data_bin, META_NAME).write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def read_meta(data_bin: str | os.PathLike[str]) -> dict[str, object]:
    path = Path(data_bin, META_NAME)
    if not path.is_file():
        return {"bpe": "char"}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def load_segmenter(data_bin: str | os.PathLike[str]) -> Segmenter:
    """The segmenter a data-bin was built with (character level when it has no ``prep.json``)."""
    meta = read_meta(data_bin)
    if meta.get("bpe") == "sentencepiece":
        return SpmSegmenter(Path(data_bin, str(meta.get("spm_model", SPM_NAME))))
    return CharSegmenter()
