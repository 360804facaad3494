"""``tlm_transformer_rotowire``: the TLM transformer reading factored records (data-to-text).

A record's embedding is the sum of its field embeddings (``RECORD_FIELDS`` of
``preprocess.rotowire.records``: value, entity, type, home/away); the rest is the TLM encoder and
decoder unchanged. No copy mechanism (values are generated from the target vocabulary).
"""

from collections.abc import Sequence

import torch
from fairseq.models import register_model, register_model_architecture
from torch import nn

from preprocess.rotowire.records import RECORD_FIELDS

from .tlm_transformer import TLMTransformerEncoder, TLMTransformerModel, tlm_base_architecture


class RecordEncoder(TLMTransformerEncoder):
    """TLM encoder over ``(batch, records, len(RECORD_FIELDS))`` inputs, fields in ``RECORD_FIELDS`` order.

    The value field stands in for the token sequence of fairseq's encoder: it gives the padding
    mask and the positions (all four fields are padded at the same places), while the summed field
    embeddings are passed as precomputed token embeddings, scaled and dropped out as usual.
    """

    def __init__(self, args, value_dict, embed_value: nn.Embedding, field_embeddings: Sequence[nn.Embedding]):
        super().__init__(args, value_dict, embed_value)
        self.embed_fields = nn.ModuleList(field_embeddings)

    def forward(
        self,
        src_tokens: torch.Tensor,
        src_lengths: torch.Tensor | None = None,
        return_all_hiddens: bool = False,
        token_embeddings: torch.Tensor | None = None,
    ):
        fields = len(RECORD_FIELDS)
        if src_tokens.dim() != 3 or src_tokens.size(-1) != fields:
            raise ValueError(
                f"expected records of shape (batch, records, {fields}) with fields {RECORD_FIELDS}, "
                f"got {tuple(src_tokens.shape)}"
            )
        values = src_tokens[..., 0]
        if token_embeddings is None:
            token_embeddings = self.embed_tokens(values)
            for i, embed in enumerate(self.embed_fields, start=1):
                token_embeddings = token_embeddings + embed(src_tokens[..., i])
        return super().forward(values, src_lengths, return_all_hiddens, token_embeddings)


@register_model("tlm_transformer_rotowire")
class TLMRotowireModel(TLMTransformerModel):
    """Needs ``--task data_to_text`` (one dictionary per record field)."""

    reads_records = True

    @classmethod
    def build_model(cls, args, task):
        tlm_transformer_rotowire(args)
        field_dicts = getattr(task, "field_dictionaries", None)
        if field_dicts is None or len(field_dicts) != len(RECORD_FIELDS):
            raise ValueError(
                f"tlm_transformer_rotowire needs --task data_to_text (one dictionary per field of {RECORD_FIELDS})"
            )
        if args.share_all_embeddings:
            raise ValueError(
                "--share-all-embeddings needs one dictionary; records and summaries have their own"
            )
        embeds = [cls.build_embedding(args, d, args.encoder_embed_dim) for d in field_dicts]
        encoder = RecordEncoder(args, field_dicts[0], embeds[0], embeds[1:])
        tgt_dict = task.target_dictionary
        decoder = cls.build_decoder(
            args, tgt_dict, cls.build_embedding(args, tgt_dict, args.decoder_embed_dim)
        )
        return cls(args, encoder, decoder)


@register_model_architecture("tlm_transformer_rotowire", "tlm_transformer_rotowire")
def tlm_transformer_rotowire(args):
    """Transformer-base with TLM; positions for ~600 records and ~850-token summaries; dropout 0.3
    and a tied output layer because Rotowire has only 3398 training games."""
    args.max_source_positions = getattr(args, "max_source_positions", 1024)
    args.max_target_positions = getattr(args, "max_target_positions", 1024)
    args.dropout = getattr(args, "dropout", 0.3)
    args.share_decoder_input_output_embed = getattr(args, "share_decoder_input_output_embed", True)
    tlm_base_architecture(args)
