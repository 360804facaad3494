"""Extended-vocabulary ids of a split for copy models, read from the text files of tlm-prep-rotowire.

The binarized target maps every out-of-vocabulary token to ``<unk>``, which loses the string a copy
target needs; ``tlm-prep-rotowire`` also writes each split as text (``{split}.value.txt``: the
records' values, ``{split}.tgt.txt``: the summary, one game per line), and the ids are computed
from those with ``preprocess.rotowire.extended_vocab`` against the target dictionary, so a data-bin
needs no extra preprocessing and a dictionary threshold can change without re-binarizing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from fairseq.data import Dictionary

from preprocess.rotowire.extended_vocab import ExtendedVocab, extend, extend_target
from preprocess.rotowire.records import RECORD_FIELDS, TARGET_FIELD
from tlm_fairseq.errors import InputError
from tlm_fairseq.files import count_lines, iter_lines

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CopyTargets:
    """Per game: the records' extended ids, the target with copy targets (and ``</s>``), the
    out-of-vocabulary values (the strings of ids ``vocab_size, vocab_size + 1, ...``)."""

    vocab_size: int
    source: list[np.ndarray]
    target: list[np.ndarray]
    oov: list[tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.source)


def load_copy_targets(
    prefix: str, tgt_dict: Dictionary, vocab_size: int, src_sizes: Sequence[int], tgt_sizes: Sequence[int]
) -> CopyTargets:
    """Read ``{prefix}.value.txt`` and ``{prefix}.tgt.txt`` and check them against the binarized
    sizes (records per game; summary tokens + ``</s>``), so a text file that does not belong to the
    binaries is an error naming its line instead of silently misaligned copy targets."""
    values_path, target_path = f"{prefix}.{RECORD_FIELDS[0]}.txt", f"{prefix}.{TARGET_FIELD}.txt"
    for path in (values_path, target_path):
        if not os.path.isfile(path):
            raise InputError(path, None, "not found: copy models read the text files tlm-prep-rotowire writes")
        lines = count_lines(path)
        if lines != len(src_sizes):
            raise InputError(path, None, f"{lines} games but the binarized split has {len(src_sizes)}")
    index, unk, eos = tgt_dict.indices, tgt_dict.unk(), tgt_dict.eos()
    source, target, oov = [], [], []
    for (line, values), (_, summary) in zip(iter_lines(values_path), iter_lines(target_path)):
        game = line - 1
        values_list, tokens = values.split(), summary.split()
        if len(values_list) != src_sizes[game]:
            raise InputError(
                values_path, line, f"{len(values_list)} values but the binarized game has {src_sizes[game]} records"
            )
        if len(tokens) + 1 != tgt_sizes[game]:
            raise InputError(
                target_path, line, f"{len(tokens)} tokens but the binarized summary has {tgt_sizes[game] - 1}"
            )
        vocab: ExtendedVocab = extend(values_list, index, vocab_size, tgt_dict.nspecial)
        source.append(np.asarray(vocab.source, dtype=np.int64))
        target.append(np.asarray(extend_target(tokens, vocab, index, unk) + [eos], dtype=np.int64))
        oov.append(vocab.oov)
    copied = sum(int((t >= vocab_size).sum()) for t in target)
    unknown = sum(int((t == unk).sum()) for t in target)
    total = sum(len(t) for t in target)
    logger.info(
        "%s: copy targets %.2f%% of target tokens, <unk> %.2f%%, %.1f out-of-vocabulary values per game",
        prefix, 100 * copied / max(total, 1), 100 * unknown / max(total, 1), sum(map(len, oov)) / max(len(oov), 1),
    )  # fmt: skip
    return CopyTargets(vocab_size, source, target, oov)
