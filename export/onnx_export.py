"""``tlm-export``: a fairseq checkpoint -> an onnxruntime model directory.

Writes ``encoder.onnx`` (source -> encoder-decoder keys/values of every decoder layer, once per
input) and ``decoder.onnx`` (one incremental step over a self-attention cache), each with its
weights in a ``.onnx.data`` file, optionally their float16 twins (``--fp16``, for CUDA) and int8
twins (``--quantize int8``, for CPU; ``export.quantize``), the in-place twins of the float32 and int8
decoders over the same weight files (``export.inplace_export``), the dictionaries, the SentencePiece model
when one is used, and ``config.json``. The float32 graphs are run with onnxruntime and compared
with the checkpoint's own fairseq forward, and int8 graphs with the float32 ones on real inputs,
inside a folder that is renamed into place only at the end, so an export that would generate
differently never lands.
"""
from __future__ import annotations

import argparse
import logging
import shutil
import sys
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from preprocess.rotowire.records import RECORD_FIELDS
from tlm_fairseq.cli import CliParser, run_cli
from tlm_fairseq.files import atomic_dir, check_replaceable

from . import search_options
from .architecture import check_supported, describe, max_positions, position_table, uses_copy
from .agreement import Sample, sample_sources
from .arguments import float_range, positive_int
from .checkpoint import LoadedCheckpoint, load_for_export
from .config import (CONFIG_NAME, TOKENIZERS, Dims, ExportConfig, GraphPair, Source, SpecialIds, Target,
                     Tokenizer)
from .dictionary import read_dictionary
from .errors import DictionaryMismatch, ExportError, FileProblem, UnsupportedModel
from .graph_files import save_graph
from .graph_io import COPY_SOURCE, OOV_SLOTS, SRC_EXT, cross_names, decoder_io, encoder_io, past_names
from .graphs import CopyDecoderStepGraph, DecoderStepGraph, EncoderGraph, SourceEmbedder
from .inplace_export import add_float32_twin, add_int8_twin
from .model_dir import is_export_dir, sha256_file
from .quantize import DEFAULT_MIN_IDENTICAL, SCHEMES, add_int8
from .search import Symbols
from .search_options import OptionError, SearchOptions

log = logging.getLogger("tlm.export")

DEFAULT_OPSET = 17
OPSETS = range(14, 21)  # torch's TorchScript exporter writes up to opset 20
COPY_MIN_OPSET = 16  # the copy mix scatters with ScatterElements(reduction="add")
RANDOM_OPS = frozenset({"RandomUniform", "RandomUniformLike", "RandomNormal", "RandomNormalLike",
                        "Bernoulli", "Dropout", "Multinomial"})
PARITY_TOLERANCE = 1e-3  # max |log-prob difference| between onnxruntime and fairseq (float32)


def graph_ops(model: onnx.ModelProto) -> set[str]:
    """Every operator type in a graph, subgraphs included."""
    ops: set[str] = set()

    def visit(graph: onnx.GraphProto) -> None:
        for node in graph.node:
            ops.add(node.op_type)
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    visit(attr.g)
                for sub in attr.graphs:
                    visit(sub)

    visit(model.graph)
    return ops


def _build_graphs(ckpt: LoadedCheckpoint) -> tuple[EncoderGraph, DecoderStepGraph]:
    model = ckpt.model
    enc_max = max_positions(model.encoder, int(model.encoder.max_source_positions))
    dec_max = max_positions(model.decoder, int(model.decoder.max_target_positions))
    embedder = SourceEmbedder(model.encoder, position_table(model.encoder, enc_max))
    copy = uses_copy(model)
    encoder = EncoderGraph(model.encoder, model.decoder, embedder, copy).eval()
    step = CopyDecoderStepGraph if copy else DecoderStepGraph
    decoder = step(model.decoder, position_table(model.decoder, dec_max)).eval()
    return encoder, decoder


def _sample_copy_ids(sources: list[torch.Tensor], prefix: torch.Tensor, vocab: int, gen: torch.Generator
                     ) -> list[torch.Tensor]:
    """Extended ids of the sample records: vocabulary values, and two out-of-vocabulary values
    (ids ``V`` and ``V + 1``, one of them on two records) in every source, so fairseq and the graphs
    agree on the extended size; a copied id is also fed back in the prefixes (read as ``<unk>``)."""
    ext = []
    for src in sources:
        ids = torch.randint(4, max(vocab, 5), (src.shape[0],), generator=gen).clamp(max=vocab - 1)
        ids[0], ids[1] = vocab + 1, vocab
        if len(ids) > 3:
            ids[3] = vocab
        ext.append(ids)
    prefix[:, 2] = vocab + 1
    return ext


def _sample_inputs(ckpt: LoadedCheckpoint, sizes: dict[str, int], pad: int, eos: int, seed: int = 0
                   ) -> tuple[list[torch.Tensor], torch.Tensor, list[torch.Tensor]]:
    """Two sources of different lengths, one target prefix per source, from real symbol ids, and
    for a copy model the records' extended ids (else an empty list)."""
    gen = torch.Generator().manual_seed(seed)
    low = 4  # past the four special symbols
    sources = []
    for length in (6, 3):
        if ckpt.reads_records:
            cols = [torch.randint(low, max(sizes[f], low + 1), (length,), generator=gen) for f in RECORD_FIELDS]
            sources.append(torch.stack(cols, dim=-1))
        else:
            ids = torch.randint(low, max(sizes["source"], low + 1), (length,), generator=gen)
            sources.append(torch.cat([ids, torch.tensor([eos])]))
    prefix = torch.randint(low, max(sizes["target"], low + 1), (2, 4), generator=gen)
    prefix[:, 0] = eos
    ext = _sample_copy_ids(sources, prefix, sizes["target"], gen) if uses_copy(ckpt.model) else []
    return sources, prefix, ext


def _pad_batch(sources: list[torch.Tensor], pad: int) -> torch.Tensor:
    longest = max(s.shape[0] for s in sources)
    batch = torch.full((len(sources), longest, *sources[0].shape[1:]), pad, dtype=torch.long)
    for i, s in enumerate(sources):
        batch[i, : s.shape[0]] = s
    return batch


def _verify_against_fairseq(ckpt: LoadedCheckpoint, encoder_file: Path, decoder_file: Path,
                            sizes: dict[str, int], pad: int, eos: int) -> float:
    """Max |log-prob difference| of onnxruntime (2 beams per sentence) vs fairseq's full forward
    (infinite when they disagree on which entries are ``-inf``, a copy model's impossible ids)."""
    import onnxruntime as ort

    sources, prefix, ext = _sample_inputs(ckpt, sizes, pad, eos)
    expected = []
    with torch.no_grad():
        for i, (src, prev) in enumerate(zip(sources, prefix)):
            src = src.unsqueeze(0)
            copy_args = {"src_ext": ext[i].unsqueeze(0)} if ext else {}
            out = ckpt.model(src, torch.tensor([src.shape[1]]), prev.unsqueeze(0), **copy_args)
            expected.append(ckpt.model.get_normalized_probs(out, log_probs=True).float()[0].numpy())
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    enc = ort.InferenceSession(str(encoder_file), options, providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(str(decoder_file), options, providers=["CPUExecutionProvider"])
    padding, *cross = enc.run(None, {"src": _pad_batch(sources, pad).numpy()})
    layers, batch = len(ckpt.model.decoder.layers), padding.shape[0]
    attn = ckpt.model.decoder.layers[0].self_attn
    past = [np.zeros((batch, attn.num_heads, 0, attn.head_dim), np.float32)] * (2 * layers)
    copy_feeds = {}
    if ext:
        *cross, copy_source = cross
        width = expected[0].shape[-1]
        copy_feeds = {COPY_SOURCE: copy_source, SRC_EXT: _pad_batch(ext, pad).numpy(),
                      OOV_SLOTS: np.zeros(width - sizes["target"], np.float32)}
    fixed = {"src_padding": padding, **dict(zip(cross_names(layers), cross)), **copy_feeds}
    beams = 2
    worst = 0.0
    for step in range(prefix.shape[1]):
        reorder = np.repeat(np.arange(batch), beams) if step == 0 else np.arange(batch * beams)
        tokens = np.repeat(prefix[:, step].numpy(), beams)
        lprobs, *past = dec.run(None, {"tokens": tokens, "reorder": reorder, **fixed,
                                       **dict(zip(past_names(layers), past))})
        for b in range(batch):
            for r in range(beams):
                worst = max(worst, _logprob_diff(lprobs[b * beams + r], expected[b][step]))
    return worst


def _logprob_diff(ours: np.ndarray, expected: np.ndarray) -> float:
    """Max |difference| over the finite entries; infinite if shapes or the ``-inf`` entries differ."""
    finite = np.isfinite(expected)
    if ours.shape != expected.shape or not np.array_equal(ours[~finite], expected[~finite]):
        return float("inf")
    return float(np.abs(ours[finite] - expected[finite]).max(initial=0.0))


def _export_graph(module: torch.nn.Module, args: tuple, path: Path, io: dict[str, Any], opset: int) -> list[str]:
    """Trace ``module`` to ``path``, pin the IR version, check it; returns the files written."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation chatter; correctness is verified below
        try:
            torch.onnx.export(module, args, str(path), dynamo=False, opset_version=opset,
                              do_constant_folding=True, **io)
        except Exception as err:  # noqa: BLE001 - the exporter raises many types; name the graph
            raise ExportError(f"{path.name}: torch.onnx.export failed at opset {opset}: {err}") from None
    model = onnx.load(str(path))
    random_ops = graph_ops(model) & RANDOM_OPS
    if random_ops:
        raise ExportError(f"{path.name}: training-only random operators left in the graph: {sorted(random_ops)}")
    files = save_graph(model, path)
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except onnx.checker.ValidationError as err:
        raise ExportError(f"{path.name}: onnx.checker rejected the exported graph: {err}") from None
    return files


def _trace_args(encoder: EncoderGraph, ckpt: LoadedCheckpoint, sizes: dict[str, int], pad: int, eos: int,
                dtype: torch.dtype) -> tuple[tuple, tuple]:
    """Example inputs for tracing: two sentences, two beams each, three cached positions."""
    sources, prefix, ext = _sample_inputs(ckpt, sizes, pad, eos)
    src = _pad_batch(sources, pad)
    with torch.no_grad():
        padding, *cross = encoder(src)
    copy_inputs: tuple = ()
    if ext:
        *cross, copy_source = cross
        copy_inputs = (copy_source, _pad_batch(ext, pad), torch.zeros(2, dtype=torch.float32))
    attn = ckpt.model.decoder.layers[0].self_attn
    rows = padding.shape[0] * 2
    past = [torch.zeros(rows, attn.num_heads, 3, attn.head_dim, dtype=dtype) for _ in cross]
    tokens = prefix[:, 2].repeat_interleave(2)  # a copy model's prefixes hold a copied id here
    return (src,), (tokens, torch.arange(rows), padding, *past, *cross, *copy_inputs)


def _generation_defaults(ckpt: LoadedCheckpoint) -> SearchOptions:
    """The checkpoint's generation settings (fairseq's attribute names), else fairseq's defaults."""
    gen = getattr(ckpt.cfg, "generation", None)
    values = {}
    for name in search_options.SEARCH_KEYS:
        attr = search_options.spec(name).flag.lstrip("-").replace("-", "_")  # --unkpen -> unkpen
        value = getattr(gen, attr, None) if gen is not None else None
        if value is not None:
            values[name] = search_options.TYPES[name](value)
    try:
        return SearchOptions.from_mapping(values)
    except OptionError as err:
        raise FileProblem(ckpt.path, f"generation setting {err}") from None


def _tokenizer(ckpt: LoadedCheckpoint, choice: str, spm_model: Path | None) -> tuple[Tokenizer, Path | None]:
    if ckpt.reads_records:
        return Tokenizer("records"), None
    bpe = getattr(ckpt.cfg, "bpe", None)
    bpe_name = getattr(bpe, "_name", None) if bpe is not None else None
    if choice == "auto":
        choice = "sentencepiece" if bpe_name == "sentencepiece" or spm_model else "zh_char"
    if choice != "sentencepiece":
        return Tokenizer(choice), None  # type: ignore[arg-type]  # one of TOKENIZERS (argparse choices)
    model = spm_model or (Path(bpe.sentencepiece_model) if bpe_name == "sentencepiece" else None)
    if model is None:
        raise ExportError("--tokenizer sentencepiece needs --sentencepiece-model (the checkpoint names none)")
    if not model.is_file():
        raise FileProblem(model, "SentencePiece model not found")
    return Tokenizer("sentencepiece", "sentencepiece.model"), model


def _copy_dictionaries(ckpt: LoadedCheckpoint, root: Path) -> tuple[dict[str, str], dict[str, int]]:
    """Copy each dictionary the task read and check it numbers symbols as fairseq did."""
    task = ckpt.task
    loaded = ({**dict(zip(RECORD_FIELDS, task.field_dictionaries)), "target": task.target_dictionary}
              if ckpt.reads_records else {"source": task.source_dictionary, "target": task.target_dictionary})
    names, sizes = {}, {}
    for key, source in ckpt.dictionary_files().items():
        if not source.is_file():
            raise FileProblem(source, "dictionary not found")
        ours = read_dictionary(source)
        if ours.symbols != list(loaded[key].symbols):
            raise DictionaryMismatch(source, "fairseq and this reader number its symbols differently")
        name = f"dict.{key}.txt"
        shutil.copyfile(source, root / name)
        names[key], sizes[key] = name, len(ours)
    return names, sizes


def _check_sizes(ckpt: LoadedCheckpoint, files: dict[str, Path], sizes: dict[str, int]) -> None:
    model = ckpt.model
    expected = {"target": model.decoder.output_projection.weight.shape[0]}
    if ckpt.reads_records:
        expected[RECORD_FIELDS[0]] = model.encoder.embed_tokens.num_embeddings
        for name, embed in zip(RECORD_FIELDS[1:], model.encoder.embed_fields):
            expected[name] = embed.num_embeddings
    else:
        expected["source"] = model.encoder.embed_tokens.num_embeddings
    for key, rows in expected.items():
        if sizes[key] != rows:
            raise DictionaryMismatch(files[key], f"has {sizes[key]} symbols but the checkpoint's embedding has {rows} rows")


def _agreement_sample(ckpt: LoadedCheckpoint, dims: dict[str, int], sizes: dict[str, int],
                      generation: SearchOptions, count: int) -> Sample:
    """Real sources of the data-bin (random ones without a split) and a greedy search over them."""
    model, target = ckpt.model, ckpt.task.target_dictionary
    max_src = max_positions(model.encoder, int(model.encoder.max_source_positions))
    max_tgt = max_positions(model.decoder, int(model.decoder.max_target_positions))
    fields = RECORD_FIELDS if ckpt.reads_records else ("source",)
    copy_vocab = dims["target_vocab"] if uses_copy(model) else None
    sources, origin = sample_sources(ckpt.task, count, max_src, min(sizes[f] for f in fields), target.eos(),
                                     records=len(RECORD_FIELDS) if ckpt.reads_records else 0, copy_vocab=copy_vocab)
    symbols = Symbols(pad=target.pad(), eos=target.eos(), unk=target.unk(), vocab=dims["target_vocab"])
    return Sample(sources, origin, dims, symbols, max_tgt, replace(generation, beam=1, nbest=1), copy_vocab)


def export_checkpoint(checkpoint: Path, data: Path, out: Path, fp16: bool = False, opset: int = DEFAULT_OPSET,
                      tokenizer: str = "auto", spm_model: Path | None = None, max_records: int | None = None,
                      force: bool = False, quantize: str | None = None, quantize_scheme: str = "auto",
                      int8_min_identical: float = DEFAULT_MIN_IDENTICAL, agreement_sample: int = 100) -> ExportConfig:
    """Export and return the written config. Raises :class:`ExportError` subclasses on bad input.

    An existing ``out`` is replaced only if it is empty, or with ``force`` if it is a previous
    export; anything else is refused before the checkpoint is even read.
    """
    if opset not in OPSETS:
        raise ExportError(f"--opset must be in [{OPSETS.start}, {OPSETS.stop - 1}], got {opset}")
    if tokenizer not in ("auto",) + TOKENIZERS:
        raise ExportError(f"--tokenizer must be auto or one of {', '.join(TOKENIZERS)}")
    if quantize not in (None, "int8") or quantize_scheme not in ("auto",) + SCHEMES:
        raise ExportError(f"--quantize must be int8 and --quantize-scheme auto or one of {', '.join(SCHEMES)}")

    def replaceable(path: Path) -> bool:
        return not any(path.iterdir()) or (force and is_export_dir(path))

    if not force and is_export_dir(out):
        raise ExportError(f"{out} holds a previous export (pass --force to replace it)")
    check_replaceable(out, replaceable)
    ckpt = load_for_export(checkpoint, data)
    check_supported(ckpt.model, str(checkpoint), ckpt.arch)
    copy = uses_copy(ckpt.model)
    if copy and opset < COPY_MIN_OPSET:
        raise ExportError(f"--opset {opset}: a copy model needs opset >= {COPY_MIN_OPSET} "
                          "(its mix scatters with ScatterElements reduction='add')")
    dims = describe(ckpt.model)
    target_dict = ckpt.task.target_dictionary
    pad, eos = target_dict.pad(), target_dict.eos()
    if ckpt.reads_records and tokenizer != "auto":
        raise ExportError("--tokenizer applies to text models; this checkpoint reads records")
    tok_spec, spm_source = _tokenizer(ckpt, tokenizer, spm_model)
    generation = _generation_defaults(ckpt)
    with atomic_dir(out, replaceable) as root:
        dict_names, sizes = _copy_dictionaries(ckpt, root)
        _check_sizes(ckpt, ckpt.dictionary_files(), sizes)
        files = list(dict_names.values())
        graphs: dict[str, GraphPair] = {}
        encoder, decoder = _build_graphs(ckpt)
        enc_args, dec_args = _trace_args(encoder, ckpt, sizes, pad, eos, torch.float32)
        layers = dims["decoder_layers"]
        files += _export_graph(encoder, enc_args, root / "encoder.onnx", encoder_io(layers, copy), opset)
        files += _export_graph(decoder, dec_args, root / "decoder.onnx", decoder_io(layers, copy), opset)
        graphs["float32"] = GraphPair("encoder.onnx", "decoder.onnx")
        worst = _verify_against_fairseq(ckpt, root / "encoder.onnx", root / "decoder.onnx", sizes, pad, eos)
        log.info("onnxruntime vs fairseq forward: max |log-prob difference| %.2e", worst)
        if not worst <= PARITY_TOLERANCE:
            raise UnsupportedModel(checkpoint, f"the exported graphs disagree with the checkpoint's own forward "
                                   f"(max |log-prob difference| {worst:.3g} > {PARITY_TOLERANCE}); "
                                   f"architecture {ckpt.arch!r} has an eval-time behaviour the exporter does not reproduce")
        check_sources = enc_args[0].numpy()
        files += add_float32_twin(root, graphs, decoder, dec_args, opset, check_sources, dims)
        if fp16:
            ckpt.model.half()
            encoder, decoder = _build_graphs(ckpt)
            encoder, decoder = encoder.half(), decoder.half()
            enc_args, dec_args = _trace_args(encoder, ckpt, sizes, pad, eos, torch.float16)
            files += _export_graph(encoder, enc_args, root / "encoder.fp16.onnx", encoder_io(layers, copy), opset)
            files += _export_graph(decoder, dec_args, root / "decoder.fp16.onnx", decoder_io(layers, copy), opset)
            graphs["float16"] = GraphPair("encoder.fp16.onnx", "decoder.fp16.onnx")
        int8 = None
        if quantize:
            sample = _agreement_sample(ckpt, dims, sizes, generation, agreement_sample)
            int8 = add_int8(root, graphs["float32"], quantize_scheme, sample, int8_min_identical)
            graphs["int8"] = int8.graphs
            files += int8.files
            files += add_int8_twin(root, graphs, int8.scheme, check_sources, dims)
        if spm_source is not None:
            shutil.copyfile(spm_source, root / "sentencepiece.model")
            files.append("sentencepiece.model")
        model = ckpt.model
        if ckpt.reads_records:
            source = Source("records", fields=tuple(RECORD_FIELDS), max_records=max_records,
                            dictionaries={f: dict_names[f] for f in RECORD_FIELDS}, copy=copy)
            field_vocab, source_vocab = {f: sizes[f] for f in RECORD_FIELDS}, None
        else:
            source = Source("tokens", dictionary=dict_names["source"])
            field_vocab, source_vocab = None, sizes["source"]
        config = ExportConfig(
            task="records" if ckpt.reads_records else "text", arch=ckpt.arch, checkpoint=checkpoint.name,
            checkpoint_sha256=ckpt.sha256,
            opset=opset, dims=Dims(**dims, source_vocab=source_vocab, field_vocab=field_vocab),
            symbols=SpecialIds(bos=target_dict.bos(), pad=pad, eos=eos, unk=target_dict.unk()),
            source=source, target=Target(dict_names["target"]), tokenizer=tok_spec,
            max_source_positions=max_positions(model.encoder, int(model.encoder.max_source_positions)),
            max_target_positions=max_positions(model.decoder, int(model.decoder.max_target_positions)),
            generation=generation, graphs=graphs, verified_max_logprob_diff=worst,
            quantization=int8.scheme if int8 else None, int8_agreement=int8.agreement if int8 else None,
            files={name: sha256_file(root / name) for name in sorted(files)},
        )
        config.to_json(root / CONFIG_NAME)
        ExportConfig.from_json(root / CONFIG_NAME)  # what the runtime will read must pass its checks
    log.info("wrote %s (%s)", out, ", ".join(sorted(graphs)))
    return config


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="tlm-export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="fairseq checkpoint (.pt)")
    parser.add_argument("--data", type=Path, required=True, help="the fairseq data-bin the model was trained on")
    parser.add_argument("--out", type=Path, required=True, help="output model directory")
    parser.add_argument("--fp16", action="store_true", help="also write float16 graphs (for CUDA)")
    parser.add_argument("--quantize", choices=("int8",), help="also write int8 graphs (dynamic quantization of the "
                        "MatMul/Gemm weights, for CPU), kept only if they generate like the float32 ones")
    parser.add_argument("--quantize-scheme", choices=("auto",) + SCHEMES, default="auto",
                        help="int8 weight scales (auto: try both, keep the one closer to float32)")
    parser.add_argument("--int8-min-identical", type=float_range(0.0, 1.0), default=DEFAULT_MIN_IDENTICAL,
                        help="refuse int8 graphs whose greedy outputs equal float32's on fewer than this fraction "
                             f"of the sample (default {DEFAULT_MIN_IDENTICAL})")
    parser.add_argument("--agreement-sample", type=positive_int, default=100,
                        help="sentences of the data-bin's valid (else test) split the int8 graphs are measured on")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (default {DEFAULT_OPSET})")
    parser.add_argument("--tokenizer", default="auto", choices=("auto",) + TOKENIZERS,
                        help="text models: how raw input is split (auto: sentencepiece if the checkpoint "
                             "used it, else zh_char, the CGEC character tokenizer)")
    parser.add_argument("--sentencepiece-model", type=Path, help="SentencePiece model, if not named by the checkpoint")
    parser.add_argument("--max-records", type=positive_int,
                        help="record models: records kept per game (tlm-prep-rotowire --max-records)")
    parser.add_argument("--force", "--overwrite", dest="force", action="store_true",
                        help="replace --out if it holds a previous export (anything else is never replaced)")
    return parser


def run(args: argparse.Namespace) -> None:
    export_checkpoint(args.checkpoint, args.data, args.out, args.fp16, args.opset, args.tokenizer,
                      args.sentencepiece_model, args.max_records, args.force, args.quantize, args.quantize_scheme,
                      args.int8_min_identical, args.agreement_sample)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_cli(build_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
