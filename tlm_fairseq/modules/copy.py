"""The pointer-generator copy layer (See et al., 2017) over records, for the Rotowire decoder.

At every output step a gate ``p_gen = sigmoid(w . [h; c; x] + b)`` (decoder state ``h``, copy
context ``c``, input embedding ``x``) mixes the vocabulary distribution with a copy distribution
that is the layer's attention over the records, each record's weight going to the output id of
its value in the game's extended vocabulary (``preprocess.rotowire.extended_vocab``):

    P(w) = p_gen * P_vocab(w) + (1 - p_gen) * sum_{i : id(record_i) = w} a_i

The attention is the layer's own single-head bilinear attention ``a = softmax(h^T W e_i / sqrt(d))``
over the encoder outputs ``e_i``, not an average of the decoder's cross-attention heads: those
heads serve the decoder's content pathway and spread over the records that matter for the next
words (entity, type, team), and averaging them gives a diffuse pointer; a dedicated pointer is
trained by the copy loss alone, sharpens on the one record to copy, and leaves the cross-attention
free. Its cost is one ``d x d`` matrix, and because ``h^T W e = (W^T h)^T e`` it needs no
projection of the records, so decoding a step costs ``O(d^2 + S d)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn


class PointerGenerator(nn.Module):
    """Copy attention and gate; :func:`mix` turns their outputs into the extended distribution."""

    def __init__(self, state_dim: int, source_dim: int, input_dim: int) -> None:
        super().__init__()
        self.query = nn.Linear(state_dim, source_dim, bias=False)
        self.gate = nn.Linear(state_dim + source_dim + input_dim, 1)
        self.scale = 1.0 / math.sqrt(source_dim)

    def forward(
        self,
        state: Tensor,
        inputs: Tensor,
        source: Tensor,
        source_padding: Tensor,
        sigmoid: Callable[[Tensor], Tensor] = torch.sigmoid,
    ) -> tuple[Tensor, Tensor]:
        """Gate ``(B, T, 1)`` and copy attention ``(B, T, S)`` (float32).

        ``state``: decoder output features ``(B, T, C)``; ``inputs``: embeddings of the decoder's
        input tokens ``(B, T, E)``; ``source``: encoder outputs ``(B, S, D)``; ``source_padding``:
        ``(B, S)``, True at padded records (they get weight zero). ``sigmoid``: the ONNX export
        passes one that onnxruntime computes as torch does (see ``export.graphs``).
        """
        scores = torch.bmm(self.query(state) * self.scale, source.transpose(1, 2))
        scores = scores.float().masked_fill(source_padding.unsqueeze(1), float("-inf"))
        attn = torch.softmax(scores, dim=-1)
        context = torch.bmm(attn.to(source.dtype), source)
        p_gen = sigmoid(self.gate(torch.cat([state, context, inputs.to(state.dtype)], dim=-1)).float())
        return p_gen, attn


def mix(logits: Tensor, p_gen: Tensor, attn: Tensor, source_ids: Tensor, size: int) -> Tensor:
    """Log-probabilities ``(B, T, size)`` of the mixed distribution over the extended vocabulary.

    ``logits``: ``(B, T, V)`` of the output layer; ``source_ids``: ``(B, S)`` output id of each
    record (padded records, whose weight is zero, must carry an id below ``V``, e.g. the pad
    index); ``size >= V``: the batch's extended vocabulary size. Vocabulary entries are always
    finite (probabilities below float32's smallest normal number are clamped to it, where
    ``log_softmax`` would be finite too); an extended id that no record of the game produces has
    probability zero, ``-inf``.
    """
    return mix_slots(logits, p_gen, attn, source_ids, logits.new_zeros(size - logits.size(-1), dtype=torch.float))


def mix_slots(logits: Tensor, p_gen: Tensor, attn: Tensor, source_ids: Tensor, slots: Tensor) -> Tensor:
    """:func:`mix` with the extended ids' count given as the length of ``slots`` (zeros, float32):
    a shape instead of a number, so that a traced ONNX graph keeps it dynamic."""
    batch, steps, vocab = logits.shape
    probs = torch.softmax(logits.float(), dim=-1) * p_gen
    extension = slots.view(1, 1, -1).expand(batch, steps, -1)
    probs = torch.cat([probs, extension], dim=-1)
    ids = source_ids.unsqueeze(1).expand(batch, steps, source_ids.size(1))
    probs = probs.scatter_add(-1, ids, attn * (1.0 - p_gen))
    lprobs = probs.clamp_min(torch.finfo(probs.dtype).tiny).log()
    known = torch.ones(batch, vocab, dtype=torch.bool, device=logits.device)
    unknown = torch.zeros_like(slots, dtype=torch.bool).view(1, -1).expand(batch, -1)
    present = torch.cat([known, unknown], dim=1)
    present = present.scatter(1, source_ids, torch.ones_like(source_ids, dtype=torch.bool))
    return lprobs.masked_fill(~present.unsqueeze(1), float("-inf"))


def extended_size(source_ids: Tensor, vocab_size: int) -> int:
    """Extended vocabulary size of a batch: ``V`` plus the most out-of-vocabulary values any of its
    games has (their ids run from ``V`` up)."""
    return max(vocab_size, int(source_ids.max()) + 1) if source_ids.numel() else vocab_size
