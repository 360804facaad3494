"""Grow a trained small transformer checkpoint into a transformer-base-sized one computing the same function.

Why: on a shared 2-core CPU a transformer-base model does not get past predicting the unigram
distribution of a copy task within a ten-minute training budget, while a 128-wide one learns the
task in about a minute. The benchmark needs base-sized matrices *and* realistic outputs, so it
trains the small model, grows it with function-preserving transformations (Net2Net, Chen et al.
2016), breaks the symmetry of the copies with a little noise and trains the grown model a few
more updates with fairseq. Inference cost depends on the shapes only, so the grown model costs
exactly what any base model of these sizes costs.

Width: every unit of the residual stream is copied ``k = new_dim / old_dim`` times, arranged so that
each new attention head holds ``k / 2`` copies of one old head (new head size = 2 x old); a linear
map divides its input weights by ``k``, queries are rescaled for the new head size, LayerNorm sees
each value ``k`` times (same mean and variance), the FFN's hidden units are copied likewise, and the
final LayerNorm is divided by ``k`` because the tied output projection sums ``k`` copies. Depth: new
pre-norm layers whose output projections (attention ``out_proj``, ``fc2``) are zero are identities.
Requires pre-norm layers, learned positions and unscaled embeddings (sinusoidal tables and the
``sqrt(dim)`` embedding scale change with the width).
"""
from __future__ import annotations

import argparse
import re
from typing import Any

import torch
from torch import Tensor


def _unit_map(new: int, old: int, old_head: int) -> Tensor:
    """Old unit of each new residual unit: old head ``h``'s values repeated over new dims of group ``h``."""
    rep = new // old
    j = torch.arange(new)
    return (j // (rep * old_head)) * old_head + j % old_head


def _ffn_map(new: int, old: int) -> Tensor:
    return torch.arange(new) % old


def grow_state(model: dict[str, Tensor], args: argparse.Namespace, dims: dict[str, int], noise: float,
               seed: int) -> dict[str, Tensor]:
    """The grown ``state["model"]``. ``dims``: embed_dim, ffn_dim, heads, layers (both sides alike)."""
    old_dim, old_ffn = args.encoder_embed_dim, args.encoder_ffn_embed_dim
    old_heads = args.encoder_attention_heads
    if dims["embed_dim"] % old_dim or dims["ffn_dim"] % old_ffn:
        raise ValueError("the new sizes must be multiples of the old ones")
    old_head = old_dim // old_heads
    new_head = dims["embed_dim"] // dims["heads"]
    rep = dims["embed_dim"] // old_dim
    if new_head % old_head or (rep * old_head) % new_head:
        raise ValueError(f"heads of {old_head} cannot be grown into heads of {new_head} at {rep}x the width")
    unit = _unit_map(dims["embed_dim"], old_dim, old_head)
    hidden = _ffn_map(dims["ffn_dim"], old_ffn)
    q_scale = (old_head ** -0.5) / (new_head ** -0.5 * (new_head // old_head))
    gen = torch.Generator().manual_seed(seed)
    grown: dict[str, Tensor] = {}

    def linear(w: Tensor, b: Tensor | None, out_map: Tensor, in_map: Tensor, in_rep: int, scale: float = 1.0
               ) -> tuple[Tensor, Tensor | None]:
        w2 = w[out_map][:, in_map] / in_rep * scale
        return w2, None if b is None else b[out_map] * scale

    old_layers = {side: 1 + max(int(m.group(1)) for k in model if (m := re.match(rf"{side}\.layers\.(\d+)\.", k)))
                  for side in ("encoder", "decoder")}
    for key, value in model.items():
        m = re.match(r"(encoder|decoder)\.layers\.(\d+)\.(.+)$", key)
        name = m.group(3) if m else key
        if name.endswith(("embed_tokens.weight", "embed_positions.weight")) or key == "decoder.output_projection.weight":
            grown[key] = value[:, unit].clone()
        elif name.endswith("layer_norm.weight") or name.endswith("layer_norm.bias"):
            scale = 1.0 / rep if key.startswith("decoder.layer_norm.") else 1.0  # the tied projection sums rep copies
            grown[key] = value[unit] * scale
        elif re.match(r"(self_attn|encoder_attn)\.(q|k|v|out)_proj\.weight$", name):
            scale = q_scale if ".q_proj." in name else 1.0
            grown[key], bias = linear(value, model[key[:-6] + "bias"], unit, unit, rep, scale)
            grown[key[:-6] + "bias"] = bias
        elif name == "fc1.weight":
            grown[key], grown[key[:-6] + "bias"] = linear(value, model[key[:-6] + "bias"], hidden, unit, rep)
        elif name == "fc2.weight":
            grown[key], grown[key[:-6] + "bias"] = linear(value, model[key[:-6] + "bias"], unit, hidden, dims["ffn_dim"] // old_ffn)
        elif name.endswith(".bias") and (key[:-4] + "weight") in model:
            continue  # written with its weight
        else:
            grown[key] = value.clone()
    for key, value in list(grown.items()):  # symmetry breaking: the copies must be able to drift apart
        if value.is_floating_point() and value.dim() == 2:
            grown[key] = value + noise * value.std() * torch.randn(value.shape, generator=gen)
    for side, count in old_layers.items():
        for i in range(count, dims["layers"]):  # identity layers: trained inner weights, zero output maps
            for key in [k for k in grown if k.startswith(f"{side}.layers.{count - 1}.")]:
                new_key = key.replace(f".layers.{count - 1}.", f".layers.{i}.", 1)
                zero = re.search(r"(out_proj|fc2)\.(weight|bias)$", key)
                grown[new_key] = torch.zeros_like(grown[key]) if zero else grown[key].clone()
    return grown


def grow_checkpoint(src: str, dest: str, dims: dict[str, int], noise: float = 0.01, seed: int = 0) -> None:
    """Read ``src`` safely, write the grown checkpoint (model and its arguments; no optimizer state)."""
    from tlm_fairseq.checkpoints import load_checkpoint
    from tlm_fairseq.files import atomic_write

    state: dict[str, Any] = load_checkpoint(src)
    args = state["cfg"]["model"]
    if not (args.encoder_normalize_before and args.decoder_normalize_before and args.encoder_learned_pos
            and args.decoder_learned_pos and args.no_scale_embedding):
        raise ValueError(f"{src}: growing needs pre-norm layers, learned positions and --no-scale-embedding")
    model = grow_state(state["model"], args, dims, noise, seed)
    new_args = argparse.Namespace(**vars(args))
    for side in ("encoder", "decoder"):
        setattr(new_args, f"{side}_embed_dim", dims["embed_dim"])
        setattr(new_args, f"{side}_ffn_embed_dim", dims["ffn_dim"])
        setattr(new_args, f"{side}_attention_heads", dims["heads"])
        setattr(new_args, f"{side}_layers", dims["layers"])
    new_args.decoder_output_dim = new_args.decoder_input_dim = dims["embed_dim"]
    grown = {k: v for k, v in state.items() if k not in ("last_optimizer_state", "model")}
    grown["model"] = model
    grown["cfg"] = {**state["cfg"], "model": new_args}
    with atomic_write(dest, binary=True) as handle:
        torch.save(grown, handle)
