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
    batch, length = pad.shape
    device = pad.device
    siblings = siblings & selected
    # Every row is one of three kinds, and each kind sees one key vector: pad queries (whose outputs
    # fairseq discards) look at the non-pad keys so they stay finite; siblings-masked queries see no
    # other key; every other query sees the keys that are neither padding nor selected.
    visible_keys = ~pad & ~selected
    key_sets = torch.stack((visible_keys, ~pad, torch.zeros_like(pad)), dim=1)  # [B, 3, T]
    row_kind = torch.where(pad, 1, torch.where(siblings, 2, 0))  # [B, T]
    mask = key_sets[torch.arange(batch, device=device)[:, None], row_kind]  # [B, T, T], one gather
    if causal:
        mask.tril_()
    # The diagonal: siblings-masked queries see themselves, and so does any row left with nothing
    # to see (a self-masked first target token, say). Counting what each row sees is O(B*T).
    if causal:
        seen_by_row = torch.where(pad, (~pad).int().cumsum(1), visible_keys.int().cumsum(1))
    else:
        seen_by_row = torch.where(pad, (~pad).int().sum(1, keepdim=True), visible_keys.int().sum(1, keepdim=True))
    diagonal = mask.diagonal(dim1=1, dim2=2)
    diagonal |= siblings | (seen_by_row == 0)
    return mask
