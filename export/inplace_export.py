"""tlm-export's in-place decoder graphs (``export.inplace_graph``), written beside the concat ones.

For each float32 or int8 pair the exporter writes ``decoder.inplace.onnx`` (``decoder.int8.inplace.onnx``)
whose weights are the concat decoder's own: the in-place graph names the same byte ranges of
``decoder.onnx.data`` instead of a second copy (:func:`share_weights`), so an export grows by the
graph structure only. The concat decoder stays: CUDA and float16 runs use it (and ``inplace=False``),
and it is the reference the in-place graph is checked against before it is listed (:func:`check_against`:
log-probabilities of the same steps, beams reordered and sentences dropped as a search does).
"""
from __future__ import annotations

import hashlib
import logging
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx.external_data_helper import set_external_data, uses_external_data

from .config import GraphPair
from .errors import ExportError
from .graph_files import data_name, save_graph
from .graph_io import cross_names, inplace_decoder_io, past_names, written_names
from .graphs import DecoderStepGraph
from .inplace_graph import GQA_DOMAIN, GQA_OPSET, InPlaceDecoderStepGraph, supports

log = logging.getLogger("tlm.export")

TRACE_CAPACITY = 8  # cache positions of the example buffers (the axis is dynamic)
FLOAT_TOLERANCE = 1e-4  # max |log-prob difference| in-place vs concat graph, float32 (same weights, same sums)
INT8_TOLERANCE = 1e-2  # int8: activations a rounding apart may quantize one step apart
CHECK_STEPS = 12  # steps of the check: past the first growth of the cache buffers (export.kv_cache.GROWTH)
BEAM_PATTERNS = (np.array([1, 0]), np.array([0, 0]), np.array([0, 1]), np.array([1, 1]))  # which beam each continues


def inplace_name(decoder: str) -> str:
    """``decoder.onnx`` -> ``decoder.inplace.onnx``, ``decoder.int8.onnx`` -> ``decoder.int8.inplace.onnx``."""
    return decoder.removesuffix(".onnx") + ".inplace.onnx"


def trace_args(concat_args: tuple, layers: int) -> tuple:
    """The in-place step's example inputs from the concat step's (same tokens, padding, cross)."""
    tokens, _reorder, padding, *caches = concat_args
    past, cross = caches[: 2 * layers], caches[2 * layers :]
    rows, heads, length, head_dim = past[0].shape
    buffers = [torch.zeros(rows, heads, TRACE_CAPACITY, head_dim, dtype=past[0].dtype) for _ in past]
    return (tokens, torch.tensor(length), padding, *cross, *buffers)


def export_inplace(decoder: DecoderStepGraph, concat_args: tuple, root: Path, concat_name: str, opset: int) -> list[str]:
    """Trace the in-place twin of ``decoder`` next to ``concat_name``, sharing its weight file."""
    layers = len(decoder.decoder.layers)
    module = InPlaceDecoderStepGraph(decoder.decoder, decoder.positions).eval()
    path = root / inplace_name(concat_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter; the graph is checked against the concat one
        try:
            torch.onnx.export(module, trace_args(concat_args, layers), str(path), dynamo=False, opset_version=opset,
                              do_constant_folding=True, custom_opsets={GQA_DOMAIN: GQA_OPSET},
                              **inplace_decoder_io(layers))
        except Exception as err:  # noqa: BLE001 - the exporter raises many types; name the graph
            raise ExportError(f"{path.name}: torch.onnx.export failed at opset {opset}: {err}") from None
    model = onnx.load(str(path))
    declare_written_like_fed(model, layers)
    return finish(model, root, path, concat_name)


def declare_written_like_fed(model: onnx.ModelProto, layers: int) -> None:
    """Give each written buffer the declared shape of the buffer fed in (it is the same memory);
    the tracer leaves the operator's outputs with made-up dimension names."""
    fed = {i.name: i for i in model.graph.input}
    for output in model.graph.output:
        name = output.name.removesuffix("_written")
        if output.name in written_names(layers):
            output.type.CopyFrom(fed[name].type)


def finish(model: onnx.ModelProto, root: Path, path: Path, concat_name: str) -> list[str]:
    """Save ``model`` as ``path`` over the weight file of ``concat_name``; returns the files written."""
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as err:
        raise ExportError(f"{path.name}: onnx.checker rejected the exported graph: {err}") from None
    if share_weights(model, root / data_name(concat_name)):
        model.ir_version = onnx.helper.find_min_ir_version_for(list(model.opset_import), ignore_unknown=True)
        (root / data_name(path.name)).unlink(missing_ok=True)
        onnx.save_model(model, str(path))
        return [path.name]
    log.warning("%s: some weights differ from %s's; saved with a weight file of its own", path.name, concat_name)
    return save_graph(model, path)


def share_weights(model: onnx.ModelProto, data: Path) -> bool:
    """Point every large initializer of ``model`` at the identical bytes in ``data`` (in place).

    Returns False, leaving ``model`` as it was, unless every one of them is found there.
    """
    found: dict[str, tuple[int, int]] = {}
    reference = onnx.load(str(data.parent / data.name.removesuffix(".data")), load_external_data=False)
    with open(data, "rb") as handle:
        for tensor in reference.graph.initializer:
            if uses_external_data(tensor):
                info = {e.key: e.value for e in tensor.external_data}
                offset, length = int(info.get("offset", 0)), int(info["length"])
                handle.seek(offset)
                found.setdefault(hashlib.sha256(handle.read(length)).hexdigest(), (offset, length))
    large = [t for t in model.graph.initializer if len(t.raw_data) >= 1024]
    places = [found.get(hashlib.sha256(t.raw_data).hexdigest()) for t in large]
    if any(place is None for place in places):
        return False
    for tensor, (offset, length) in zip(large, places):  # type: ignore[misc]  # none is None (checked)
        set_external_data(tensor, data.name, offset, length)
        tensor.data_location = onnx.TensorProto.EXTERNAL
        tensor.ClearField("raw_data")
    return True


def add_float32_twin(root: Path, graphs: dict[str, GraphPair], decoder: DecoderStepGraph, concat_args: tuple,
                     opset: int, sources: np.ndarray, dims: dict[str, int]) -> list[str]:
    """Write and check the in-place twin of the float32 decoder and list it in ``graphs``.

    Returns the files written: none where the head size does not suit the operator.
    """
    head_dim = dims["head_dim"]
    if type(decoder) is not DecoderStepGraph:  # a step with more inputs (a copy model's): not built
        log.info("%s has no in-place twin; the runtime keeps the concat decoder", type(decoder).__name__)
        return []
    if not supports(head_dim):
        log.info("head size %d is not a multiple of 8: no in-place decoder (onnxruntime's "
                 "GroupQueryAttention needs one); the runtime keeps the concat decoder", head_dim)
        return []
    pair = graphs["float32"]
    files = export_inplace(decoder, concat_args, root, pair.decoder, opset)
    twin = inplace_name(pair.decoder)
    worst = check_against(root / pair.decoder, root / twin, root / pair.encoder, sources, dims["heads"], head_dim,
                          FLOAT_TOLERANCE)
    log.info("in-place vs concat decoder (float32): max |log-prob difference| %.2e", worst)
    graphs["float32"] = replace(pair, decoder_inplace=twin)
    return files


def add_int8_twin(root: Path, graphs: dict[str, GraphPair], scheme: str, sources: np.ndarray,
                  dims: dict[str, int]) -> list[str]:
    """The int8 twin: the float32 twin quantized with the int8 decoder's ``scheme`` (same weights)."""
    from .quantize import quantize_graph

    float32, pair = graphs["float32"], graphs["int8"]
    if float32.decoder_inplace is None:
        return []
    twin = inplace_name(pair.decoder)
    quantize_graph(root / float32.decoder_inplace, root / twin, per_channel=scheme == "per-channel")
    files = finish(onnx.load(str(root / twin)), root, root / twin, pair.decoder)
    worst = check_against(root / pair.decoder, root / twin, root / pair.encoder, sources, dims["heads"],
                          dims["head_dim"], INT8_TOLERANCE)
    log.info("in-place vs concat decoder (int8): max |log-prob difference| %.2e", worst)
    graphs["int8"] = replace(pair, decoder_inplace=twin)
    return files


def check_against(concat: Path, inplace: Path, encoder: Path, sources: np.ndarray, heads: int, head_dim: int,
                  tolerance: float) -> float:
    """Max |log-prob difference| of the in-place step vs the concat step over a short search-like run.

    Two beams per sentence, swapped, continued twice or kept from step to step, the first sentence
    dropped half-way: the reorders and compactions of a real search. Raises :class:`ExportError`
    over ``tolerance``.
    """
    import onnxruntime as ort

    from .kv_cache import InPlaceDecoderState

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    providers = ["CPUExecutionProvider"]
    enc = ort.InferenceSession(str(encoder), options, providers=providers)
    old = ort.InferenceSession(str(concat), options, providers=providers)
    new = ort.InferenceSession(str(inplace), options, providers=providers)
    padding, *cross = enc.run(None, {"src": sources})
    layers = len(cross) // 2
    dtype = np.float16 if next(i for i in old.get_inputs() if i.name == past_names(1)[0]).type == "tensor(float16)" \
        else np.float32

    class _Sessions:  # what InPlaceDecoderState reads
        decoder, cache_dtype = new, dtype

    state = InPlaceDecoderState(_Sessions, [padding, *cross], heads, head_dim)
    past = [np.zeros((len(sources), heads, 0, head_dim), dtype)] * (2 * layers)
    rng = np.random.default_rng(0)
    batch, worst = len(sources), 0.0
    reorder = np.arange(batch)
    for step in range(CHECK_STEPS):
        rows = len(reorder)
        tokens = rng.integers(4, 8, size=rows).astype(np.int64)
        feeds = {"tokens": tokens, "reorder": reorder, "src_padding": padding,
                 **dict(zip(cross_names(layers), cross)), **dict(zip(past_names(layers), past))}
        expected, *past = old.run(None, feeds)
        got = state.step(tokens, reorder)
        worst = max(worst, float(np.abs(got - expected).max()))
        beams = BEAM_PATTERNS[step % len(BEAM_PATTERNS)]
        if step == 0:
            reorder = np.repeat(np.arange(batch), 2)
        elif step == CHECK_STEPS // 2 and batch > 1:  # the first sentence finishes: the others move up
            keep = np.arange(1, batch)
            batch -= 1
            padding, cross = padding[keep], [c[keep] for c in cross]
            state.keep_sentences(keep)
            reorder = (keep[:, None] * 2 + beams).reshape(-1)
        else:
            reorder = (np.arange(batch)[:, None] * 2 + beams).reshape(-1)
    if not worst <= tolerance:
        raise ExportError(f"{inplace.name}: its log-probabilities differ from {concat.name}'s by {worst:.3g} "
                          f"(> {tolerance:g}); the in-place decoder is not written")
    return worst

