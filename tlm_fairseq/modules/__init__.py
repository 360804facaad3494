"""The research idea: the TLM mask, and the training-only attention wiring that applies it."""
from .regularized_attention import AttentionRegularizer, RegularizedSelfAttention, drophead_scale
from .tlm_mask import MODES, mask_from_selection, tlm_mask, validate_rate

__all__ = [
    "AttentionRegularizer",
    "MODES",
    "RegularizedSelfAttention",
    "drophead_scale",
    "mask_from_selection",
    "tlm_mask",
    "validate_rate",
]
