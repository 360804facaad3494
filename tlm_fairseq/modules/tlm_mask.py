"""Token-Level Masking (Wu et al., EMNLP 2023, arXiv 2310.18738): the attention mask, and only that.

Every TLM mask in this project is built here. The mask is built for the whole batch at once on the
tensor's device, with no Python loop over examples or positions.
"""
from typing import Optional

import torch
from torch import BoolTensor, Tensor

MODES = ("siblings", "self", "both")


def validate_rate(rate: float) -> float:
    """Return ``rate`` if it is a masking probability TLM accepts, else raise ``ValueError``."""
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"TLM rate must be in [0, 1), got {rate}")
    return rate


def tlm_mask(
    key_padding_mask: Tensor,
    rate: float,
    mode: str,
    causal: bool = False,
    generator: Optional[torch.Generator] = None,
) -> BoolTensor:
    """Sample one TLM self-attention mask per example.

    Args:
        key_padding_mask: bool ``[B, T]``, True marks padding.
        rate: probability that a non-pad token is selected (the masked fraction, e.g. 0.1).
        mode: ``siblings`` (a selected query sees only itself), ``self`` (a selected query sees every
            still-visible key but not itself) or ``both`` (each selected token draws one of the two).
        causal: hide keys after the query (decoder self-attention).
        generator: optional generator for reproducible masks; must live on the mask's device.

    Returns:
        bool ``[B, T, T]``; ``[b, i, j]`` True means query ``i`` may attend key ``j``. A selected
        token's key is hidden from every other query; padding is never visible to a non-pad query;
        every row keeps at least one visible key (its own position when nothing else is left),
        so the softmax never sees an all-masked row.
    """
    validate_rate(rate)
    if mode not in MODES:
        raise ValueError(f"TLM mode must be one of {', '.join(MODES)}, got {mode!r}")
    pad = key_padding_mask.to(torch.bool)
    draws = torch.rand((2, *pad.shape), device=pad.device, generator=generator)
    selected = (draws[0] < rate) & ~pad
    if mode == "siblings":
        siblings = selected
    elif mode == "self":
        siblings = torch.zeros_like(selected)
    else:
        siblings = selected & (draws[1] < 0.5)
    return mask_from_selection(pad, selected, siblings, causal)


def mask_from_selection(pad: Tensor, selected: Tensor, siblings: Tensor, causal: bool = False) -> BoolTensor:
    """The deterministic half of :func:`tlm_mask`: build the mask from a given selection.

    Args:
        pad: bool ``[B, T]``, True marks padding.
        selected: bool ``[B, T]``, the masked tokens (never padding).
        siblings: bool ``[B, T]``, the selected tokens that use siblings-masking; the other
            selected tokens use self-masking.
        causal: hide keys after the query.
    """
    length = pad.shape[1]
    device = pad.device
    eye = torch.eye(length, dtype=torch.bool, device=device)
    visible_keys = ~pad & ~selected  # keys any ordinary query may see
    # Pad queries produce outputs fairseq discards; they look at the non-pad keys so they stay finite.
    row_keys = torch.where(pad.unsqueeze(-1), (~pad).unsqueeze(1), visible_keys.unsqueeze(1))
    mask = torch.where((siblings & selected).unsqueeze(-1), eye, row_keys)
    if causal:
        mask = mask & torch.ones(length, length, dtype=torch.bool, device=device).tril()
    empty_rows = ~mask.any(dim=-1, keepdim=True)
    return mask | (empty_rows & eye)
