"""Training-path self-attention with the TLM mask and DropHead, around fairseq's attention.

In eval mode, or with every regularizer off, :class:`RegularizedSelfAttention` runs fairseq's own
``MultiheadAttention.forward`` untouched, so inference is bit-identical to fairseq's transformer and
nothing training-only reaches an exported graph.
"""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from fairseq.modules import MultiheadAttention
from torch import Tensor

from .tlm_mask import tlm_mask, validate_rate


@dataclass(frozen=True)
class AttentionRegularizer:
    """Settings of the training-only regularizers of one self-attention module."""

    tlm_rate: float = 0.0
    tlm_mode: str = "both"
    drophead_rate: float = 0.0
    causal: bool = False

    def __post_init__(self) -> None:
        validate_rate(self.tlm_rate)
        validate_rate(self.drophead_rate)

    @property
    def active(self) -> bool:
        return self.tlm_rate > 0 or self.drophead_rate > 0


def drophead_scale(batch: int, heads: int, rate: float, device: torch.device) -> Tensor:
    """DropHead (Zhou et al., 2020): per example, drop whole heads and rescale the kept ones.

    Returns float ``[B, H]``: 0 for a dropped head, ``H / kept`` for a kept one, so the expected
    sum over heads is unchanged. An example that drops every head keeps them all instead.
    """
    keep = torch.rand(batch, heads, device=device) >= rate
    keep = keep | ~keep.any(dim=1, keepdim=True)
    return keep * (heads / keep.sum(dim=1, keepdim=True))


class RegularizedSelfAttention(MultiheadAttention):
    """fairseq self-attention whose training forward applies TLM and DropHead.

    The module keeps fairseq's parameters and names; :meth:`attach` turns an existing fairseq
    self-attention into this class so weights, initialization and checkpoints are unchanged.
    """

    regularizer: AttentionRegularizer

    @classmethod
    def attach(cls, attn: MultiheadAttention, regularizer: AttentionRegularizer) -> "RegularizedSelfAttention":
        if not attn.self_attention:
            raise ValueError("TLM applies to self-attention only")
        attn.__class__ = cls
        attn.regularizer = regularizer
        return attn

    def forward(
        self,
        query: Tensor,
        key: Optional[Tensor],
        value: Optional[Tensor],
        key_padding_mask: Optional[Tensor] = None,
        incremental_state: Optional[Dict[str, Dict[str, Optional[Tensor]]]] = None,
        need_weights: bool = True,
        static_kv: bool = False,
        attn_mask: Optional[Tensor] = None,
        before_softmax: bool = False,
        need_head_weights: bool = False,
    ) -> Tuple[Tensor, Optional[Tensor]]:
        if (
            not self.training
            or not self.regularizer.active
            or incremental_state is not None
            or need_weights
            or need_head_weights
            or before_softmax
        ):
            return super().forward(
                query, key, value, key_padding_mask, incremental_state, need_weights,
                static_kv, attn_mask, before_softmax, need_head_weights,
            )
        return self._regularized_forward(query, key_padding_mask, attn_mask), None

    def _regularized_forward(
        self, x: Tensor, key_padding_mask: Optional[Tensor], attn_mask: Optional[Tensor]
    ) -> Tensor:
        """Scaled dot-product self-attention under a fresh TLM mask and DropHead; x is ``[T, B, C]``."""
        length, batch, dim = x.shape
        heads, head_dim = self.num_heads, self.head_dim
        reg = self.regularizer

        def split_heads(t: Tensor) -> Tensor:  # [T, B, C] -> [B, H, T, D]
            return t.view(length, batch, heads, head_dim).permute(1, 2, 0, 3)

        q, k, v = (split_heads(proj(x)) for proj in (self.q_proj, self.k_proj, self.v_proj))
        if key_padding_mask is None:
            key_padding_mask = torch.zeros(batch, length, dtype=torch.bool, device=x.device)
        if reg.tlm_rate > 0:
            allowed = tlm_mask(key_padding_mask, reg.tlm_rate, reg.tlm_mode, causal=reg.causal).unsqueeze(1)
        else:  # DropHead only: fairseq's own padding mask
            allowed = ~key_padding_mask.bool()[:, None, None, :]
        bias = torch.zeros(allowed.shape, dtype=q.dtype, device=x.device).masked_fill_(~allowed, float("-inf"))
        if attn_mask is not None:  # fairseq's own additive mask (the decoder's future mask)
            bias = bias + attn_mask.to(q.dtype)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias, dropout_p=self.dropout_module.p if self.training else 0.0
        )
        if reg.drophead_rate > 0:
            out = out * drophead_scale(batch, heads, reg.drophead_rate, x.device).to(out.dtype)[:, :, None, None]
        out = out.permute(2, 0, 1, 3).reshape(length, batch, dim)
        return self.out_proj(out)
