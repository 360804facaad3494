"""``tlm_transformer``: fairseq's transformer with TLM and DropHead on its self-attention.

The model only wires :mod:`tlm_fairseq.modules` into fairseq's encoder and decoder layers; the
architectures below are defaults, nothing more.
"""
import argparse

from fairseq.models import register_model, register_model_architecture
from fairseq.models.transformer import (
    TransformerDecoder,
    TransformerEncoder,
    TransformerModel,
    base_architecture,
    transformer_vaswani_wmt_en_de_big,
)

from ..modules import MODES, AttentionRegularizer, RegularizedSelfAttention, validate_rate

APPLY_TO = ("both", "encoder", "decoder")


def _rate(text: str) -> float:
    try:
        return validate_rate(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}")


def add_tlm_args(parser: argparse.ArgumentParser) -> None:
    """Command-line options of the regularizers (defaults come from the architecture)."""
    parser.add_argument("--tlm-rate", type=_rate, metavar="P",
                        help="probability that a token is masked by TLM, in [0, 1); 0 turns TLM off")
    parser.add_argument("--tlm-mode", choices=MODES,
                        help="siblings-masking, self-masking, or each masked token draws one of both")
    parser.add_argument("--tlm-apply-to", choices=APPLY_TO,
                        help="apply TLM to encoder and decoder self-attention, or to one of them")
    parser.add_argument("--drophead-rate", type=_rate, metavar="P",
                        help="DropHead baseline: probability of dropping a whole attention head, in [0, 1)")


def regularizer_for(args: argparse.Namespace, side: str, causal: bool) -> AttentionRegularizer:
    """The regularizer settings of one side (``encoder`` or ``decoder``) of the model."""
    uses_tlm = args.tlm_apply_to in ("both", side)
    return AttentionRegularizer(
        tlm_rate=args.tlm_rate if uses_tlm else 0.0,
        tlm_mode=args.tlm_mode,
        drophead_rate=args.drophead_rate,
        causal=causal,
    )


def _unwrap(layer):
    """The layer inside fairseq's FSDP wrapper, if any (checkpoint wrapping keeps the module)."""
    return getattr(layer, "module", layer)


class TLMTransformerEncoder(TransformerEncoder):
    def build_encoder_layer(self, args):
        layer = super().build_encoder_layer(args)
        inner = _unwrap(layer)
        RegularizedSelfAttention.attach(inner.self_attn, regularizer_for(args, "encoder", causal=False))
        return layer


class TLMTransformerDecoder(TransformerDecoder):
    def build_decoder_layer(self, args, no_encoder_attn=False):
        layer = super().build_decoder_layer(args, no_encoder_attn)
        inner = _unwrap(layer)
        RegularizedSelfAttention.attach(inner.self_attn, regularizer_for(args, "decoder", causal=True))
        return layer


@register_model("tlm_transformer")
class TLMTransformerModel(TransformerModel):
    """Transformer trained with Token-Level Masking (Wu et al., EMNLP 2023).

    In eval mode it computes exactly what fairseq's ``transformer`` computes with the same weights.
    """

    @staticmethod
    def add_args(parser):
        TransformerModel.add_args(parser)
        add_tlm_args(parser)

    @classmethod
    def build_encoder(cls, args, src_dict, embed_tokens):
        return TLMTransformerEncoder(args, src_dict, embed_tokens)

    @classmethod
    def build_decoder(cls, args, tgt_dict, embed_tokens):
        return TLMTransformerDecoder(
            args, tgt_dict, embed_tokens, no_encoder_attn=getattr(args, "no_cross_attention", False)
        )


def tlm_defaults(args: argparse.Namespace) -> None:
    """TLM as in the paper: 10% of tokens, both techniques, on encoder and decoder."""
    args.tlm_rate = getattr(args, "tlm_rate", 0.1)
    args.tlm_mode = getattr(args, "tlm_mode", "both")
    args.tlm_apply_to = getattr(args, "tlm_apply_to", "both")
    args.drophead_rate = getattr(args, "drophead_rate", 0.0)


@register_model_architecture("tlm_transformer", "tlm_transformer")
def tlm_base_architecture(args):
    tlm_defaults(args)
    base_architecture(args)


@register_model_architecture("tlm_transformer", "tlm_transformer_big")
def tlm_transformer_big(args):
    tlm_defaults(args)
    transformer_vaswani_wmt_en_de_big(args)


@register_model_architecture("tlm_transformer", "tlm_transformer_cgec")
def tlm_transformer_cgec(args):
    """The CGEC recipe: transformer-base with one embedding matrix shared by source, target and output."""
    args.share_all_embeddings = getattr(args, "share_all_embeddings", True)
    tlm_base_architecture(args)
