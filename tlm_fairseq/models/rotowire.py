"""``tlm_transformer_rotowire``: the TLM transformer reading factored records (data-to-text).

A record's embedding is the sum of its field embeddings (``RECORD_FIELDS`` of
``preprocess.rotowire.records``: value, entity, type, home/away); the rest is the TLM encoder and
decoder unchanged.

``--copy`` adds a pointer-generator (``tlm_fairseq.modules.copy``): the decoder's output becomes the
log-probabilities of the mixed vocabulary/copy distribution over each game's extended vocabulary
(``preprocess.rotowire.extended_vocab``), whose ids the ``data_to_text`` task supplies as
``src_ext``. Without ``--copy`` the model is the plain record transformer (same parameters, same
outputs). TLM and DropHead act on the self-attentions either way; the copy attention, like the
cross-attention, is never masked.
"""

from collections.abc import Sequence
from typing import Any, Optional

import torch
from fairseq.models import register_model, register_model_architecture
from torch import Tensor, nn

from preprocess.rotowire.records import RECORD_FIELDS

from ..criterions import copy_cross_entropy  # noqa: F401  (registers the copy model's loss)
from ..modules.copy import PointerGenerator, extended_size, mix
from .tlm_transformer import (
    TLMTransformerDecoder,
    TLMTransformerEncoder,
    TLMTransformerModel,
    tlm_base_architecture,
)


class RecordEncoder(TLMTransformerEncoder):
    """TLM encoder over ``(batch, records, len(RECORD_FIELDS))`` inputs, fields in ``RECORD_FIELDS`` order.

    The value field stands in for the token sequence of fairseq's encoder: it gives the padding
    mask and the positions (all four fields are padded at the same places), while the summed field
    embeddings are passed as precomputed token embeddings, scaled and dropped out as usual.
    """

    def __init__(
        self,
        args,
        value_dict,
        embed_value: nn.Embedding,
        field_embeddings: Sequence[nn.Embedding],
        copy_vocab_size: Optional[int] = None,
    ):
        super().__init__(args, value_dict, embed_value)
        self.embed_fields = nn.ModuleList(field_embeddings)
        #: with copying, the target vocabulary size; the encoder output then carries each record's
        #: extended id (``src_ext``) and the batch's extended vocabulary size for the decoder
        self.copy_vocab_size = copy_vocab_size

    def forward(
        self,
        src_tokens: torch.Tensor,
        src_lengths: torch.Tensor | None = None,
        return_all_hiddens: bool = False,
        token_embeddings: torch.Tensor | None = None,
        src_ext: torch.Tensor | None = None,
    ):
        """``src_ext`` (``(batch, records)``, extended id of each record's value) is required with
        copying and ignored without it."""
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
        out = super().forward(values, src_lengths, return_all_hiddens, token_embeddings)
        if self.copy_vocab_size is not None:
            if src_ext is None or src_ext.shape != values.shape:
                got = None if src_ext is None else tuple(src_ext.shape)
                raise ValueError(
                    f"a --copy model needs src_ext of shape {tuple(values.shape)} (the extended id of each "
                    f"record's value, supplied by --task data_to_text), got {got}"
                )
            out["src_ext"] = [src_ext]
            out["copy_size"] = [torch.tensor(extended_size(src_ext, self.copy_vocab_size))]
        return out

    def reorder_encoder_out(self, encoder_out: dict[str, list[Tensor]], new_order: Tensor):
        """fairseq's reordering, plus the records' extended ids; the extended vocabulary size stays
        that of the whole batch, so it does not shrink as sentences finish during beam search."""
        reordered = super().reorder_encoder_out(encoder_out, new_order)
        if encoder_out.get("src_ext"):
            reordered["src_ext"] = [encoder_out["src_ext"][0].index_select(0, new_order)]
            reordered["copy_size"] = encoder_out["copy_size"]
        return reordered


class CopyDecoder(TLMTransformerDecoder):
    """TLM decoder whose output is the pointer-generator's log-probabilities over the extended
    vocabulary ``(batch, steps, V + OOV values of the batch)``, not logits.

    Extended ids fed back as input (copied values) are embedded as ``<unk>``, as in See et al.
    """

    def __init__(self, args, dictionary, embed_tokens, no_encoder_attn=False):
        super().__init__(args, dictionary, embed_tokens, no_encoder_attn)
        self.vocab_size, self.unk = len(dictionary), dictionary.unk()
        self.copy_layer = PointerGenerator(self.output_embed_dim, args.encoder_embed_dim, embed_tokens.embedding_dim)

    def forward(
        self,
        prev_output_tokens: Tensor,
        encoder_out: Optional[dict[str, list[Tensor]]] = None,
        incremental_state: Optional[dict[str, dict[str, Optional[Tensor]]]] = None,
        features_only: bool = False,
        full_context_alignment: bool = False,
        alignment_layer: Optional[int] = None,
        alignment_heads: Optional[int] = None,
        src_lengths: Optional[Any] = None,
        return_all_hiddens: bool = False,
    ):
        tokens = prev_output_tokens.masked_fill(prev_output_tokens >= self.vocab_size, self.unk)
        x, extra = self.extract_features(
            tokens,
            encoder_out=encoder_out,
            incremental_state=incremental_state,
            full_context_alignment=full_context_alignment,
            alignment_layer=alignment_layer,
            alignment_heads=alignment_heads,
        )
        if features_only:
            return x, extra
        if encoder_out is None or not encoder_out.get("src_ext"):
            raise ValueError("the copy decoder needs the encoder output of a --copy RecordEncoder")
        if incremental_state is not None:
            tokens = tokens[:, -1:]
        inputs = self.embed_scale * self.embed_tokens(tokens)
        source = encoder_out["encoder_out"][0].transpose(0, 1)
        p_gen, attn = self.copy_layer(x, inputs, source, encoder_out["encoder_padding_mask"][0])
        extra["p_gen"], extra["copy_attn"] = [p_gen], [attn]
        size = int(encoder_out["copy_size"][0])
        return mix(self.output_layer(x), p_gen, attn, encoder_out["src_ext"][0], size), extra

    def get_normalized_probs(self, net_output, log_probs: bool, sample=None):
        """The decoder output already is log-probabilities."""
        lprobs = net_output[0]
        return lprobs if log_probs else lprobs.exp()


@register_model("tlm_transformer_rotowire")
class TLMRotowireModel(TLMTransformerModel):
    """Needs ``--task data_to_text`` (one dictionary per record field)."""

    reads_records = True

    @staticmethod
    def add_args(parser):
        TLMTransformerModel.add_args(parser)
        parser.add_argument(
            "--copy", action="store_true",
            help="pointer-generator copying of record values, with a per-game extended vocabulary",
        )  # fmt: skip

    def forward(
        self,
        src_tokens: Tensor,
        src_lengths: Tensor,
        prev_output_tokens: Tensor,
        return_all_hiddens: bool = True,
        features_only: bool = False,
        alignment_layer: Optional[int] = None,
        alignment_heads: Optional[int] = None,
        src_ext: Optional[Tensor] = None,
    ):
        """fairseq's transformer forward, passing the records' extended ids to the encoder."""
        encoder_out = self.encoder(
            src_tokens, src_lengths=src_lengths, return_all_hiddens=return_all_hiddens, src_ext=src_ext
        )
        return self.decoder(
            prev_output_tokens,
            encoder_out=encoder_out,
            features_only=features_only,
            alignment_layer=alignment_layer,
            alignment_heads=alignment_heads,
            src_lengths=src_lengths,
            return_all_hiddens=return_all_hiddens,
        )

    @property
    def uses_copy(self) -> bool:
        return isinstance(self.decoder, CopyDecoder)

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
        tgt_dict = task.target_dictionary
        encoder = RecordEncoder(
            args, field_dicts[0], embeds[0], embeds[1:], len(tgt_dict) if args.copy else None
        )
        embed_target = cls.build_embedding(args, tgt_dict, args.decoder_embed_dim)
        if args.copy:
            decoder = CopyDecoder(
                args, tgt_dict, embed_target, no_encoder_attn=getattr(args, "no_cross_attention", False)
            )
        else:
            decoder = cls.build_decoder(args, tgt_dict, embed_target)
        return cls(args, encoder, decoder)


@register_model_architecture("tlm_transformer_rotowire", "tlm_transformer_rotowire")
def tlm_transformer_rotowire(args):
    """Transformer-base with TLM; positions for ~600 records and ~850-token summaries; dropout 0.3
    and a tied output layer because Rotowire has only 3398 training games."""
    args.max_source_positions = getattr(args, "max_source_positions", 1024)
    args.max_target_positions = getattr(args, "max_target_positions", 1024)
    args.dropout = getattr(args, "dropout", 0.3)
    args.share_decoder_input_output_embed = getattr(args, "share_decoder_input_output_embed", True)
    args.copy = getattr(args, "copy", False)
    tlm_base_architecture(args)
