"""Inference-only torch modules over a fairseq transformer's weights, written to trace to ONNX.

fairseq's own modules keep their decoder cache in Python dicts and choose code paths at run time,
which tracing freezes badly; these modules reuse the checkpoint's parameters (same tensors, no
copy) and spell out the eval-mode computation of fairseq's transformer: no dropout, no TLM, no
DropHead, so the exported graphs hold no random operator. ``export.architecture`` checks first that
the checkpoint uses only what is reproduced here, and the exporter compares the result against the
model's own forward before writing anything.

Layouts (names in ``export.graph_io``): the encoder returns the source padding mask and the
encoder-decoder keys and values of every decoder layer, ``(B, H, S, Dh)`` each, one copy per
sentence. The decoder step takes ``N = B * beam`` rows (the rows of sentence ``b`` are
``b*beam .. b*beam+beam-1``), gathers each layer's self-attention cache ``(N_prev, H, t, Dh)`` by
``reorder`` (the previous row each row continues), and returns the next-token log-probabilities
and the grown caches ``(N, H, t+1, Dh)``.

Copy models (``tlm_transformer_rotowire --copy``): the encoder also returns its output, and
:class:`CopyDecoderStepGraph` mixes the vocabulary with the copy distribution through the model's
own ``PointerGenerator`` and ``tlm_fairseq.modules.copy.mix_slots`` (the functions fairseq's path
calls), treating the beams of a sentence as the pointer's time axis.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.onnx.operators import shape_as_tensor


def split_heads(x: Tensor, attn: nn.Module) -> Tensor:
    """``(B, T, C)`` -> ``(B, H, T, Dh)`` for fairseq attention module ``attn``."""
    return x.reshape(x.shape[0], -1, attn.num_heads, attn.head_dim).transpose(1, 2)


def merge_heads(x: Tensor, attn: nn.Module) -> Tensor:
    """``(B, H, T, Dh)`` -> ``(B, T, H*Dh)``."""
    return x.transpose(1, 2).reshape(x.shape[0], -1, attn.num_heads * attn.head_dim)


def attend(q: Tensor, k: Tensor, v: Tensor, key_padding: Tensor | None) -> Tensor:
    """Softmax attention as fairseq computes it: ``q`` already scaled, softmax in float32."""
    scores = torch.matmul(q, k.transpose(-1, -2))
    if key_padding is not None:
        scores = scores.masked_fill(key_padding, float("-inf"))
    probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
    return torch.matmul(probs, v)


def layer_norm(module: nn.Module | None, x: Tensor) -> Tensor:
    return x if module is None else module(x)


class SourceEmbedder(nn.Module):
    """fairseq's ``forward_embedding``: scaled embedding + positions (+ LN), for tokens or records.

    Token sources are ``(B, S)``. Record sources (``tlm_transformer_rotowire``) are ``(B, T, F)``:
    the first field plays the token sequence (padding and positions) and the embeddings of all
    fields are summed, as ``RecordEncoder`` does.
    """

    def __init__(self, encoder: nn.Module, positions: Tensor | None) -> None:
        super().__init__()
        self.embed_tokens = encoder.embed_tokens
        self.embed_fields = getattr(encoder, "embed_fields", None)
        self.embed_scale = float(encoder.embed_scale)
        self.layernorm_embedding = encoder.layernorm_embedding
        self.padding_idx = int(encoder.padding_idx)
        self.register_buffer("positions", None if positions is None else positions.detach(), persistent=False)

    def tokens(self, src: Tensor) -> Tensor:
        return src if self.embed_fields is None else src[..., 0]

    def forward(self, src: Tensor) -> Tensor:
        tokens = self.tokens(src)
        embedded = self.embed_tokens(tokens)
        if self.embed_fields is not None:
            for i, embed in enumerate(self.embed_fields, start=1):
                embedded = embedded + embed(src[..., i])
        x = self.embed_scale * embedded
        if self.positions is not None:
            mask = tokens.ne(self.padding_idx).long()
            pos = torch.cumsum(mask, dim=1) * mask + self.padding_idx
            x = x + self.positions[pos]
        return layer_norm(self.layernorm_embedding, x)

    def padding_mask(self, src: Tensor) -> Tensor:
        return self.tokens(src).eq(self.padding_idx)


class EncoderGraph(nn.Module):
    """Source -> (padding mask, cross keys/values per decoder layer), computed once per input."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, embedder: nn.Module, copy: bool = False) -> None:
        super().__init__()
        self.copy = copy  # also return the encoder output (the records the copy attention reads)
        self.embedder = embedder
        self.layers = encoder.layers
        self.final_norm = encoder.layer_norm
        self.cross = [layer.encoder_attn for layer in decoder.layers]
        self.decoder_layers = decoder.layers

    def encoder_layer(self, layer: nn.Module, x: Tensor, padding: Tensor) -> Tensor:
        attn = layer.self_attn
        residual = x
        if layer.normalize_before:
            x = layer.self_attn_layer_norm(x)
        q = split_heads(attn.q_proj(x) * attn.scaling, attn)
        k = split_heads(attn.k_proj(x), attn)
        v = split_heads(attn.v_proj(x), attn)
        x = attn.out_proj(merge_heads(attend(q, k, v, padding[:, None, None, :]), attn))
        x = residual + x
        if not layer.normalize_before:
            x = layer.self_attn_layer_norm(x)
        residual = x
        if layer.normalize_before:
            x = layer.final_layer_norm(x)
        x = layer.fc2(layer.activation_fn(layer.fc1(x)))
        x = residual + x
        if not layer.normalize_before:
            x = layer.final_layer_norm(x)
        return x

    def forward(self, src: Tensor) -> tuple[Tensor, ...]:
        padding = self.embedder.padding_mask(src)
        x = self.embedder(src)
        x = x * (1 - padding.unsqueeze(-1).to(x.dtype))
        for layer in self.layers:
            x = self.encoder_layer(layer, x, padding)
        x = layer_norm(self.final_norm, x)
        cross = []
        for layer in self.decoder_layers:
            attn = layer.encoder_attn
            cross += [split_heads(attn.k_proj(x), attn), split_heads(attn.v_proj(x), attn)]
        return (padding, *cross, x) if self.copy else (padding, *cross)


class DecoderStepGraph(nn.Module):
    """One incremental decoder step over a reordered self-attention cache (see module docstring)."""

    def __init__(self, decoder: nn.Module, positions: Tensor | None) -> None:
        super().__init__()
        self.decoder = decoder
        self.embed_scale = float(decoder.embed_scale)
        self.padding_idx = int(decoder.padding_idx)
        self.register_buffer("positions", None if positions is None else positions.detach(), persistent=False)

    def embed(self, tokens: Tensor, step: Tensor) -> Tensor:
        dec = self.decoder
        x = self.embed_scale * dec.embed_tokens(tokens)  # (N, C_in)
        if dec.project_in_dim is not None:
            x = dec.project_in_dim(x)
        if self.positions is not None:
            x = x + self.positions[step + self.padding_idx + 1]
        return layer_norm(dec.layernorm_embedding, x).unsqueeze(1)  # (N, 1, C)

    def cross_attend(self, attn: nn.Module, x: Tensor, k: Tensor, v: Tensor, padding: Tensor) -> Tensor:
        """Queries of all beams of a sentence against that sentence's single copy of keys/values."""
        q = (attn.q_proj(x) * attn.scaling).reshape(k.shape[0], -1, attn.num_heads, attn.head_dim).transpose(1, 2)
        out = attend(q, k, v, padding[:, None, None, :])  # (B, H, beam, Dh)
        return attn.out_proj(out.transpose(1, 2).reshape(x.shape[0], 1, attn.num_heads * attn.head_dim))

    def forward(self, tokens: Tensor, reorder: Tensor, src_padding: Tensor, *caches: Tensor) -> tuple[Tensor, ...]:
        """``caches``: past key, past value per layer, then cross key, cross value per layer."""
        x, present = self.features(tokens, reorder, src_padding, caches)
        logits = self.decoder.output_projection(x[:, 0, :])
        return (torch.log_softmax(logits.float(), dim=-1), *present)

    def features(self, tokens: Tensor, reorder: Tensor, src_padding: Tensor, caches: tuple[Tensor, ...]
                 ) -> tuple[Tensor, list[Tensor]]:
        """The decoder's output features ``(N, 1, C)`` (fairseq's ``extract_features``) and the grown caches."""
        layers = len(self.decoder.layers)
        past, cross = caches[: 2 * layers], caches[2 * layers :]
        x = self.embed(tokens, shape_as_tensor(past[0])[2])
        present: list[Tensor] = []
        for i, layer in enumerate(self.decoder.layers):
            def self_attend(attn: nn.Module, h: Tensor, i: int = i) -> Tensor:
                q = split_heads(attn.q_proj(h) * attn.scaling, attn)
                k = torch.cat([past[2 * i].index_select(0, reorder), split_heads(attn.k_proj(h), attn)], dim=2)
                v = torch.cat([past[2 * i + 1].index_select(0, reorder), split_heads(attn.v_proj(h), attn)], dim=2)
                present.extend([k, v])
                return attn.out_proj(merge_heads(attend(q, k, v, None), attn))

            x = self.layer(layer, x, self_attend, cross[2 * i], cross[2 * i + 1], src_padding)
        return self.output_features(x), present

    def layer(self, layer: nn.Module, x: Tensor, self_attend: Callable[[nn.Module, Tensor], Tensor],
              cross_k: Tensor, cross_v: Tensor, src_padding: Tensor) -> Tensor:
        """One eval-mode ``TransformerDecoderLayer`` around ``self_attend(attn, x)`` (the self-attention's
        output after ``out_proj``): the one place both decoder graphs spell out norms and residuals."""
        residual = x
        if layer.normalize_before:
            x = layer.self_attn_layer_norm(x)
        x = residual + self_attend(layer.self_attn, x)
        if not layer.normalize_before:
            x = layer.self_attn_layer_norm(x)
        residual = x
        if layer.normalize_before:
            x = layer.encoder_attn_layer_norm(x)
        x = residual + self.cross_attend(layer.encoder_attn, x, cross_k, cross_v, src_padding)
        if not layer.normalize_before:
            x = layer.encoder_attn_layer_norm(x)
        residual = x
        if layer.normalize_before:
            x = layer.final_layer_norm(x)
        x = residual + layer.fc2(layer.activation_fn(layer.fc1(x)))
        if not layer.normalize_before:
            x = layer.final_layer_norm(x)
        return x

    def output_features(self, x: Tensor) -> Tensor:
        """The final layer norm and output dimension projection of fairseq's decoder."""
        dec = self.decoder
        x = layer_norm(dec.layer_norm, x)
        if dec.project_out_dim is not None:
            x = dec.project_out_dim(x)
        return x


class CopyDecoderStepGraph(DecoderStepGraph):
    """A copy model's step: inputs end with ``copy_source``, ``src_ext``, ``oov_slots``
    (``export.graph_io``); log-probabilities over the batch's extended vocabulary ``(N, V + slots)``.

    Ids ``>= V`` (copied values fed back) are embedded as ``<unk>``, as ``CopyDecoder`` does.
    """

    def forward(self, tokens: Tensor, reorder: Tensor, src_padding: Tensor, *inputs: Tensor) -> tuple[Tensor, ...]:
        from tlm_fairseq.modules.copy import mix_slots

        *caches, source, src_ext, slots = inputs
        dec = self.decoder
        tokens = torch.where(tokens >= dec.vocab_size, torch.full_like(tokens, dec.unk), tokens)
        x, present = self.features(tokens, reorder, src_padding, tuple(caches))
        batch = source.shape[0]
        state = x.reshape(batch, -1, x.shape[-1])  # (B, beams, C): a sentence's beams as the pointer's time axis
        embedded = (self.embed_scale * dec.embed_tokens(tokens)).reshape(batch, state.shape[1], -1)
        p_gen, attn = dec.copy_layer(state, embedded, source, src_padding, sigmoid=exact_sigmoid)
        logits = dec.output_projection(state)
        lprobs = mix_slots(logits, p_gen, attn, src_ext, slots)
        return (lprobs.reshape(tokens.shape[0], -1), *present)


def exact_sigmoid(x: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``: onnxruntime's ``Sigmoid`` (1.31, CPU) returns 0 below about -17.5 and is
    17% off at -15, where torch's is exact; a copy model sure of copying has gate logits there, and
    its vocabulary log-probabilities would differ from fairseq's by up to 57 nats. ``exp`` overflows
    to ``inf`` for ``x < -88``, giving 0 where torch gives a denormal: both clamp to the same floor."""
    return torch.reciprocal(1.0 + torch.exp(-x))


def sinusoidal_table(rows: int, dim: int, padding_idx: int) -> Tensor:
    """fairseq's ``SinusoidalPositionalEmbedding.get_embedding`` (tensor2tensor layout)."""
    half = dim // 2
    scale = math.log(10000) / (half - 1)
    freqs = torch.exp(torch.arange(half, dtype=torch.float) * -scale)
    angles = torch.arange(rows, dtype=torch.float).unsqueeze(1) * freqs.unsqueeze(0)
    table = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1).view(rows, -1)
    if dim % 2 == 1:
        table = torch.cat([table, torch.zeros(rows, 1)], dim=1)
    table[padding_idx, :] = 0
    return table
