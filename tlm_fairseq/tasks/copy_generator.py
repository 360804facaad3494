"""fairseq generation for copy models: a search over each batch's extended vocabulary, and the
copied values' ids turned into dictionary entries so ``fairseq-generate`` prints their strings.

fairseq's ``SequenceGenerator`` reshapes the log-probabilities with a vocabulary size fixed at
construction; a copy model's output has ``V + (out-of-vocabulary values of the batch)`` entries,
so :class:`CopySequenceGenerator` sets the size per batch, the same way the encoder computes it
(``extended_size``). The generated temporary ids ``V + k`` mean "the k-th out-of-vocabulary value
of this game"; :func:`name_copied_values` appends those strings to the target dictionary (ids from
``V`` up, shared by all games of the run) and rewrites the hypotheses and references to them, so
``Dictionary.string`` prints the value where it would print ``<unk>``. The model never sees these
dictionary ids: it keeps its own ``V``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from fairseq.data import Dictionary
from fairseq.sequence_generator import SequenceGenerator
from torch import Tensor

from ..modules.copy import extended_size


class CopySequenceGenerator(SequenceGenerator):
    """fairseq's beam search, greedy search and sampling over the extended vocabulary."""

    def __init__(self, models, tgt_dict: Dictionary, copy_vocab_size: int, **kwargs: Any) -> None:
        super().__init__(models, tgt_dict, **kwargs)
        self.copy_vocab_size = copy_vocab_size

    def _generate(self, sample: dict[str, Any], prefix_tokens=None, constraints=None, bos_token=None):
        self.vocab_size = extended_size(sample["net_input"]["src_ext"], self.copy_vocab_size)
        return super()._generate(sample, prefix_tokens, constraints, bos_token)


def _lookup(oov: Sequence[str], vocab_size: int, dictionary: Dictionary, device: torch.device) -> Tensor:
    """Dictionary id of every extended id of one game (``<unk>`` past its values)."""
    named = [dictionary.add_symbol(value) for value in oov]
    table = torch.arange(vocab_size + len(named) + 1, device=device)
    table[vocab_size : vocab_size + len(named)] = torch.tensor(named, dtype=table.dtype, device=device)
    table[-1] = dictionary.unk()
    return table


def _rename(tokens: Tensor, table: Tensor) -> Tensor:
    return table[tokens.clamp(max=table.numel() - 1)]


def name_copied_values(
    hypos: list[list[dict[str, Tensor]]], sample: dict[str, Any], vocab_size: int, dictionary: Dictionary
) -> None:
    """In place: extended ids of ``hypos`` and ``sample["target"]`` become dictionary ids of the
    values they copy (see the module docstring)."""
    for row, oov in enumerate(sample["oov"]):
        table = _lookup(oov, vocab_size, dictionary, sample["net_input"]["src_ext"].device)
        for hypo in hypos[row]:
            hypo["tokens"] = _rename(hypo["tokens"], table)
        if sample.get("target") is not None:
            sample["target"][row] = _rename(sample["target"][row], table)
