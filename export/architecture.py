"""Check that a loaded fairseq model is one the ONNX graphs reproduce exactly, and describe it.

``export.graphs`` re-implements the eval-mode transformer from the checkpoint's parameters; any
option it does not implement (adaptive softmax, cross-self-attention, NormFormer scalings, extra
attention biases, ...) must stop the export with a message naming the checkpoint rather than
produce a graph that silently computes something else.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .errors import UnsupportedModel
from .graphs import sinusoidal_table


def _attention_problems(attn: nn.Module, where: str) -> list[str]:
    problems = []
    for name in ("q_proj", "k_proj", "v_proj", "out_proj", "num_heads", "head_dim", "scaling"):
        if not hasattr(attn, name):
            problems.append(f"{where} has no {name}")
    if getattr(attn, "bias_k", None) is not None or getattr(attn, "add_zero_attn", False):
        problems.append(f"{where} uses add_bias_kv/add_zero_attn")
    if getattr(attn, "rotary_embeddings", None) is not None or getattr(attn, "rel_pos_bias", None) is not None:
        problems.append(f"{where} uses rotary or relative positions")
    return problems


def _layer_problems(layer: nn.Module, where: str, decoder: bool) -> list[str]:
    problems = _attention_problems(layer.self_attn, f"{where}.self_attn")
    for name in ("c_attn", "attn_ln", "ffn_layernorm", "w_resid"):
        if getattr(layer, name, None) is not None:
            problems.append(f"{where} uses NormFormer option {name}")
    if decoder:
        if getattr(layer, "encoder_attn", None) is None:
            problems.append(f"{where} has no encoder attention (--no-cross-attention)")
        else:
            problems += _attention_problems(layer.encoder_attn, f"{where}.encoder_attn")
        if getattr(layer, "cross_self_attention", False):
            problems.append(f"{where} uses cross-self-attention")
    return problems


def check_supported(model: nn.Module, checkpoint: str, arch: str) -> None:
    """Raise :class:`UnsupportedModel` naming ``checkpoint`` unless every part is reproducible."""
    encoder, decoder = getattr(model, "encoder", None), getattr(model, "decoder", None)
    if encoder is None or decoder is None or not hasattr(encoder, "layers") or not hasattr(decoder, "layers"):
        raise UnsupportedModel(checkpoint, f"architecture {arch!r} is not a transformer encoder-decoder")
    problems = []
    copy_layer = getattr(decoder, "copy_layer", None)
    if copy_layer is not None and type(copy_layer).__name__ != "PointerGenerator":
        problems.append(f"copy layer {type(copy_layer).__name__} is not tlm_fairseq's PointerGenerator")
    for i, layer in enumerate(encoder.layers):
        problems += _layer_problems(layer, f"encoder.layers.{i}", decoder=False)
    for i, layer in enumerate(decoder.layers):
        problems += _layer_problems(layer, f"decoder.layers.{i}", decoder=True)
    if getattr(decoder, "adaptive_softmax", None) is not None:
        problems.append("decoder uses adaptive softmax")
    if getattr(decoder, "cross_self_attention", False):
        problems.append("decoder uses cross-self-attention")
    if getattr(decoder, "num_base_layers", 0):
        problems.append("decoder uses BASE layers")
    if getattr(decoder, "output_projection", None) is None:
        problems.append("decoder has no output projection")
    for side in (encoder, decoder):
        pos = getattr(side, "embed_positions", None)
        if pos is not None and type(pos).__name__ not in ("LearnedPositionalEmbedding", "SinusoidalPositionalEmbedding"):
            problems.append(f"positional embedding {type(pos).__name__} is not supported")
    if problems:
        raise UnsupportedModel(checkpoint, f"architecture {arch!r} cannot be exported: " + "; ".join(problems))


def position_table(side: nn.Module, max_positions: int) -> torch.Tensor | None:
    """Rows ``0 .. padding_idx + max_positions`` of the side's positional embedding, or None."""
    pos = getattr(side, "embed_positions", None)
    if pos is None:
        return None
    if type(pos).__name__ == "LearnedPositionalEmbedding":
        return pos.weight
    return sinusoidal_table(max_positions + pos.padding_idx + 1, pos.embedding_dim, pos.padding_idx)


def max_positions(side: nn.Module, configured: int) -> int:
    """fairseq's ``max_positions()``: the configured limit, capped by a learned table's size."""
    pos = getattr(side, "embed_positions", None)
    if pos is None:
        return configured
    return min(configured, int(pos.max_positions))


def uses_copy(model: nn.Module) -> bool:
    """A pointer-generator model (``--copy``): its graphs take and return the copy tensors."""
    return getattr(model.decoder, "copy_layer", None) is not None


def describe(model: nn.Module) -> dict[str, Any]:
    """Dimensions the runtime needs to shape its inputs (cache layout, vocabulary sizes)."""
    decoder = model.decoder
    attn = decoder.layers[0].self_attn
    return {
        "encoder_layers": len(model.encoder.layers),
        "decoder_layers": len(decoder.layers),
        "heads": int(attn.num_heads),
        "head_dim": int(attn.head_dim),
        "embed_dim": int(decoder.embed_dim),
        "target_vocab": int(decoder.output_projection.weight.shape[0]),
    }
