"""The decoder step over a self-attention cache that onnxruntime updates in place (CPU).

:class:`export.graphs.DecoderStepGraph` takes the cache as an input and returns it grown by one
step, so during a step the caller's cache and onnxruntime's new one are both alive: twice the
cache, the peak of a beam search. This step instead takes, per layer, a key buffer and a value
buffer ``(N, H, capacity, Dh)`` that hold the first ``step`` positions, and onnxruntime's
``GroupQueryAttention`` (contrib operator, CPU kernel in onnxruntime >= 1.17; kv heads = heads)
writes the new position into the same buffers when the runtime binds each one as both the input and
the output (``export.kv_cache``), then attends over the first ``step + 1`` positions. Beams are
reordered by the runtime between steps, one buffer at a time. Everything else (embedding,
encoder-decoder attention, FFN, output projection) is :class:`DecoderStepGraph`'s computation.

The operator needs a head size that is a multiple of 8 (:func:`supports`); the query is scaled
before the operator (``scale = 1``) as fairseq scales it, so the products are fairseq's.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .graphs import DecoderStepGraph, attend

GQA_HEAD_MULTIPLE = 8  # onnxruntime's GroupQueryAttention CPU kernel refuses other head sizes
GQA_DOMAIN = "com.microsoft"
GQA_OPSET = 1


def supports(head_dim: int) -> bool:
    """Whether onnxruntime's ``GroupQueryAttention`` runs this head size (else: the concat graph only)."""
    return head_dim % GQA_HEAD_MULTIPLE == 0


class GroupQueryAttention(torch.autograd.Function):
    """``com.microsoft::GroupQueryAttention`` for one new position over in-place cache buffers.

    ``forward`` is a reference computation (what tracing needs, and what the operator computes);
    ``symbolic`` is the ONNX node. ``total`` is ``step + 1``, ``seqlens`` is ``step`` per row.
    """

    @staticmethod
    def forward(ctx, q: Tensor, k: Tensor, v: Tensor, cache_k: Tensor, cache_v: Tensor,  # noqa: ANN001
                seqlens: Tensor, total: Tensor, heads: int) -> tuple[Tensor, Tensor, Tensor]:
        rows, _, width = q.shape
        head_dim = width // heads
        pos = int(total) - 1
        new_k, new_v = cache_k.clone(), cache_v.clone()
        new_k[:, :, pos] = k.reshape(rows, heads, head_dim)
        new_v[:, :, pos] = v.reshape(rows, heads, head_dim)
        qh = q.reshape(rows, 1, heads, head_dim).transpose(1, 2)
        out = attend(qh, new_k[:, :, : pos + 1], new_v[:, :, : pos + 1], None)
        return out.transpose(1, 2).reshape(rows, 1, width), new_k, new_v

    @staticmethod
    def symbolic(g, q, k, v, cache_k, cache_v, seqlens, total, heads):  # noqa: ANN001, ANN205 - torch.onnx's API
        return g.op(f"{GQA_DOMAIN}::GroupQueryAttention", q, k, v, cache_k, cache_v, seqlens, total,
                    num_heads_i=heads, kv_num_heads_i=heads, scale_f=1.0, outputs=3)


class InPlaceDecoderStepGraph(DecoderStepGraph):
    """One decoder step; inputs ``tokens (N,)``, ``step ()``, ``src_padding``, the cross keys/values,
    then the cache buffers (key, value per layer); outputs the log-probabilities and the buffers."""

    def self_attend(self, attn: nn.Module, x: Tensor, cache_k: Tensor, cache_v: Tensor, seqlens: Tensor,
                    total: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        q = attn.q_proj(x) * attn.scaling
        out, new_k, new_v = GroupQueryAttention.apply(q, attn.k_proj(x), attn.v_proj(x), cache_k, cache_v,
                                                      seqlens, total, attn.num_heads)
        return attn.out_proj(out), new_k, new_v

    def forward(self, tokens: Tensor, step: Tensor, src_padding: Tensor, *inputs: Tensor) -> tuple[Tensor, ...]:
        layers = len(self.decoder.layers)
        cross, caches = inputs[: 2 * layers], inputs[2 * layers :]
        seqlens = torch.zeros_like(tokens, dtype=torch.int32) + step.to(torch.int32)
        total = (step + 1).to(torch.int32)
        x = self.embed(tokens, step)
        written: list[Tensor] = []
        for i, layer in enumerate(self.decoder.layers):
            def self_attend(attn: nn.Module, h: Tensor, i: int = i) -> Tensor:
                out, new_k, new_v = self.self_attend(attn, h, caches[2 * i], caches[2 * i + 1], seqlens, total)
                written.extend([new_k, new_v])
                return out

            x = self.layer(layer, x, self_attend, cross[2 * i], cross[2 * i + 1], src_padding)
        x = self.output_features(x)
        logits = self.decoder.output_projection(x[:, 0, :])
        return (torch.log_softmax(logits.float(), dim=-1), *written)

