"""``label_smoothed_cross_entropy_copy``: label-smoothed cross-entropy for copy (pointer-generator)
models, whose log-probabilities cover an extended vocabulary.

The negative log-likelihood is ``-log P(gold)`` of the mixed distribution, where ``P(gold)``
already sums the generation probability and the copy attention of every record holding the gold
token (``tlm_fairseq.modules.copy.mix``); a copy target (a value outside the vocabulary) is an
extended id. Label smoothing spreads its mass ``epsilon`` over the target vocabulary only, exactly
as fairseq's ``label_smoothed_cross_entropy`` does over its ``V`` outputs:

    loss = (1 - epsilon - epsilon / (V - 1)) * nll - epsilon / (V - 1) * sum_{w < V} log P(w)

The extended ids are left out of the smoothing term because they differ from game to game, and an
id that no record of the game produces has probability zero. For a model without copying
(``V`` outputs) the loss equals fairseq's.
"""

from __future__ import annotations

from dataclasses import dataclass

from fairseq.criterions import register_criterion
from fairseq.criterions.label_smoothed_cross_entropy import (
    LabelSmoothedCrossEntropyCriterion,
    LabelSmoothedCrossEntropyCriterionConfig,
)
from torch import Tensor


def copy_label_smoothed_nll_loss(
    lprobs: Tensor, target: Tensor, epsilon: float, vocab_size: int, ignore_index: int | None = None, reduce: bool = True
) -> tuple[Tensor, Tensor]:
    """``(loss, nll_loss)`` for ``lprobs`` ``(N, V_ext)`` and ``target`` ``(N,)``; smoothing over the
    first ``vocab_size`` ids only (see the module docstring)."""
    target = target.unsqueeze(-1)
    nll_loss = -lprobs.gather(dim=-1, index=target)
    smooth_loss = -lprobs[:, :vocab_size].sum(dim=-1, keepdim=True)
    if ignore_index is not None:
        pad_mask = target.eq(ignore_index)
        nll_loss = nll_loss.masked_fill(pad_mask, 0.0)
        smooth_loss = smooth_loss.masked_fill(pad_mask, 0.0)
    nll_loss, smooth_loss = nll_loss.squeeze(-1), smooth_loss.squeeze(-1)
    if reduce:
        nll_loss, smooth_loss = nll_loss.sum(), smooth_loss.sum()
    eps_i = epsilon / (vocab_size - 1)
    loss = (1.0 - epsilon - eps_i) * nll_loss + eps_i * smooth_loss
    return loss, nll_loss


@dataclass
class CopyCrossEntropyConfig(LabelSmoothedCrossEntropyCriterionConfig):
    pass


@register_criterion("label_smoothed_cross_entropy_copy", dataclass=CopyCrossEntropyConfig)
class CopyLabelSmoothedCrossEntropyCriterion(LabelSmoothedCrossEntropyCriterion):
    """fairseq's label-smoothed cross-entropy over an extended vocabulary (module docstring)."""

    def __init__(self, task, sentence_avg, label_smoothing, ignore_prefix_size=0, report_accuracy=False):
        super().__init__(task, sentence_avg, label_smoothing, ignore_prefix_size, report_accuracy)
        self.vocab_size = len(task.target_dictionary)

    def compute_loss(self, model, net_output, sample, reduce=True) -> tuple[Tensor, Tensor]:
        lprobs, target = self.get_lprobs_and_target(model, net_output, sample)
        return copy_label_smoothed_nll_loss(
            lprobs, target, self.eps, self.vocab_size, ignore_index=self.padding_idx, reduce=reduce
        )

