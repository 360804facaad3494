"""``tlm-export --quantize int8``: dynamic int8 quantization of the float32 graphs' weights.

onnxruntime's ``quantize_dynamic`` stores the weight of every MatMul/Gemm whose second input is a
constant as int8 (per output channel or per tensor) and quantizes the activations on the fly, batch
by batch, so no calibration data is needed. Attention's activation-by-activation products stay
float32. Quantization can break a graph silently (a badly scaled projection still runs and returns
probabilities), so the exporter measures the int8 graphs against the float32 ones on a sample
(:mod:`export.agreement`) and refuses them below a threshold.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import onnx

from .agreement import Sample, compare, describe
from .config import Agreement, GraphPair
from .errors import ExportError
from .graph_files import save_graph

log = logging.getLogger("tlm.export")

QUANTIZED_OPS = ("MatMul", "Gemm")
SCHEMES = ("per-channel", "per-tensor")
DEFAULT_MIN_IDENTICAL = 0.9


@dataclass(frozen=True)
class Int8Graphs:
    graphs: GraphPair
    scheme: str  # one of SCHEMES
    agreement: Agreement
    files: list[str]  # the graphs and their weight files


def _quantizer_chatter(record: logging.LogRecord) -> bool:
    """Drop the quantizer's per-node INFO lines and its advice to pre-process (shapes are static enough)."""
    return record.levelno > logging.INFO and not record.getMessage().startswith("Please consider to run pre-processing")


def quantize_graph(source: Path, dest: Path, per_channel: bool) -> list[str]:
    """Write the int8 version of float32 graph ``source`` to ``dest``; returns the files written."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root_logger = logging.getLogger()  # quantize_dynamic logs on the root logger
    root_logger.addFilter(_quantizer_chatter)
    try:
        quantize_dynamic(source, dest, op_types_to_quantize=list(QUANTIZED_OPS), per_channel=per_channel,
                         reduce_range=False, weight_type=QuantType.QInt8, extra_options={"MatMulConstBOnly": True})
    except Exception as err:  # noqa: BLE001 - the quantizer raises many types; name the graph
        raise ExportError(f"{source.name}: int8 quantization failed: {err}") from None
    finally:
        root_logger.removeFilter(_quantizer_chatter)
    return save_graph(onnx.load(str(dest)), dest)  # its weights in a file of their own, like the float32 graph


class QuantizationRefused(ExportError):
    """The int8 graphs generate too differently from the float32 ones to be shipped."""


def add_int8(root: Path, float32: GraphPair, scheme: str, sample: Sample, min_identical: float) -> Int8Graphs:
    """Quantize ``root``'s float32 graphs, measure them on ``sample``, keep the best scheme or refuse.

    ``scheme`` ``auto`` tries per-channel and per-tensor weight scales and keeps the one whose
    greedy outputs agree more often with float32 (per-tensor on a tie: one scale per weight is
    cheaper to apply); below ``min_identical`` the export stops with :class:`QuantizationRefused`.
    """
    schemes = SCHEMES if scheme == "auto" else (scheme,)
    reference = sample.generate(root / float32.encoder, root / float32.decoder, "float32")
    tried: list[Int8Graphs] = []
    for name in schemes:
        pair = GraphPair(f"encoder.int8.{name}.onnx", f"decoder.int8.{name}.onnx")
        files = [f for which in ("encoder", "decoder") for f in quantize_graph(
            root / getattr(float32, which), root / getattr(pair, which), per_channel=name == "per-channel")]
        outputs = sample.generate(root / pair.encoder, root / pair.decoder, "int8")
        measured = compare(reference, outputs, beam=1, sample=sample.origin)
        log.info("int8 (%s weights) vs float32: %s", name, describe(measured))
        tried.append(Int8Graphs(pair, name, measured, files))
    best = max(reversed(tried), key=lambda t: t.agreement.identical)  # reversed: per-tensor wins ties
    if best.agreement.identical < min_identical:
        raise QuantizationRefused(
            f"the int8 graphs are refused: only {describe(best.agreement)} with float32 "
            f"(--int8-min-identical {min_identical:g}); the quantized model would generate differently. "
            "Export without --quantize, or lower the threshold if that is acceptable")
    final = GraphPair("encoder.int8.onnx", "decoder.int8.onnx")
    files = [f for which in ("encoder", "decoder")  # saved anew: the weight file's name is inside the graph
             for f in save_graph(onnx.load(str(root / getattr(best.graphs, which))), root / getattr(final, which))]
    for attempt in tried:
        for name in attempt.files:
            (root / name).unlink()
    return Int8Graphs(final, best.scheme, best.agreement, files)
