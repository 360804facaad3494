"""tlm-export --quantize int8: int8 graphs beside the float32 ones, their measured agreement, the
run-time choice of precision, and the refusal of int8 graphs that generate differently."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnx
import pytest

from export.agreement import compare, describe
from export.config import ExportConfig
from export.generate import Generator
from export.search import Hypothesis
from helpers import PY, run

MIN_IDENTICAL = "0.5"  # a 150-update 2-layer model: quantization moves more of its near-ties than a trained one's


@pytest.fixture(scope="module")
def int8_dir(cgec, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("int8") / "model"
    proc = run([PY, "-m", "export.onnx_export", "--checkpoint", cgec["checkpoint"], "--data", cgec["data"], "--out", out,
                "--quantize", "int8", "--int8-min-identical", MIN_IDENTICAL])
    assert "int8 (per-channel weights) vs float32" in proc.stderr and "int8 (per-tensor weights) vs float32" in proc.stderr
    return out


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TLM_FAIRSEQ_CACHE", str(tmp_path / "cache"))


def test_int8_graphs_are_written_beside_float32_with_their_agreement(int8_dir):
    config = ExportConfig.from_json(int8_dir / "config.json")
    assert set(config.graphs) == {"float32", "int8"}
    assert (config.graphs["int8"].encoder, config.graphs["int8"].decoder) == ("encoder.int8.onnx", "decoder.int8.onnx")
    assert {"encoder.int8.onnx", "encoder.int8.onnx.data", "decoder.int8.onnx.data"} <= set(config.files)
    assert not [p.name for p in int8_dir.iterdir() if "per-" in p.name]  # the scheme not kept is gone
    agreement = config.int8_agreement
    assert config.quantization in ("per-channel", "per-tensor")
    assert agreement is not None and agreement.sentences == 100 and agreement.sample == "valid+test"
    assert float(MIN_IDENTICAL) <= agreement.identical <= 1 and agreement.beam == 1
    assert 0 <= agreement.mean_score_diff <= agreement.max_score_diff < 1
    assert agreement.bleu is not None and 90 <= agreement.bleu <= 100
    ops = {n.op_type for n in onnx.load(str(int8_dir / "decoder.int8.onnx"), load_external_data=False).graph.node}
    assert ops & {"MatMulInteger", "DynamicQuantizeLinear"}, ops
    weights = {t.data_type for t in onnx.load(str(int8_dir / "decoder.int8.onnx")).graph.initializer if len(t.dims) == 2}
    assert onnx.TensorProto.INT8 in weights


def test_precision_is_chosen_at_run_time(int8_dir, cgec):
    sentences = cgec["test_raw"].read_text().splitlines()[:40]
    fp32 = Generator(int8_dir, device="cpu", threads=1)
    int8 = Generator(int8_dir, device="cpu", threads=1, precision="int8")
    assert (fp32.sessions.precision, int8.sessions.precision) == ("float32", "int8")
    a = [r.output for r in fp32.generate(sentences, beam=1)]
    b = [r.output for r in int8.generate(sentences, beam=1)]
    assert sum(x == y for x, y in zip(a, b)) >= float(MIN_IDENTICAL) * len(a)
    proc = run([PY, "-m", "export.generate", "--model-dir", int8_dir, "--input", cgec["test_raw"], "--precision", "int8",
                "--device", "cpu", "--threads", "1", "--beam", "2"])
    assert "CPUExecutionProvider, int8" in proc.stderr and len(proc.stdout.splitlines()) == 200


def test_fp16_is_an_alias_and_a_missing_precision_is_one_line(int8_dir, cgec):
    for flag in (["--fp16"], ["--precision", "float16"]):
        proc = run([PY, "-m", "export.generate", "--model-dir", cgec["model_dir"], "--input", cgec["valid_raw"],
                    "--device", "cpu", "--threads", "1", "--beam", "1", *flag])
        assert "float16" in proc.stderr
    proc = run([PY, "-m", "export.generate", "--model-dir", cgec["model_dir"], "--input", cgec["valid_raw"],
                "--precision", "int8"], check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "no int8 graphs" in lines[0] and "--quantize int8" in lines[0]
    proc = run([PY, "-m", "export.server", "--model-dir", int8_dir, "--precision", "int4"], check=False)
    assert proc.returncode == 2 and "invalid choice: 'int4'" in proc.stderr


def test_broken_int8_graphs_are_refused_and_nothing_is_written(cgec, tmp_path, monkeypatch):
    """Weight scales 40x too large: the graphs still run and return probabilities, only the outputs tell."""
    from export import quantize
    from export.onnx_export import export_checkpoint

    real = quantize.quantize_graph

    def broken(source: Path, dest: Path, per_channel: bool) -> list[str]:
        real(source, dest, per_channel)
        model = onnx.load(str(dest))
        for tensor in model.graph.initializer:
            if tensor.name.endswith("_scale") and tensor.data_type == onnx.TensorProto.FLOAT:
                scaled = onnx.numpy_helper.to_array(tensor) * np.float32(40)
                tensor.CopyFrom(onnx.numpy_helper.from_array(scaled, tensor.name))
        return quantize.save_graph(model, dest)

    monkeypatch.setattr(quantize, "quantize_graph", broken)
    out = tmp_path / "refused"
    with pytest.raises(quantize.QuantizationRefused, match=r"int8 graphs are refused: only .* identical .*--int8-min-identical 0.5") as refused:
        export_checkpoint(cgec["checkpoint"], cgec["data"], out, quantize="int8", int8_min_identical=0.5)
    bleu = float(re.search(r"BLEU against float32 ([0-9.]+)", str(refused.value)).group(1))
    assert bleu < 60, refused.value  # broken graphs are far off, not parted at near-ties
    assert not out.exists() and not list(tmp_path.glob(".refused*"))


def test_int8_threshold_is_range_checked():
    proc = run([PY, "-m", "export.onnx_export", "--checkpoint", "x.pt", "--data", ".", "--out", "o",
                "--quantize", "int8", "--int8-min-identical", "1.5"], check=False)
    assert proc.returncode == 2 and "--int8-min-identical: must be in [0, 1], got 1.5" in proc.stderr


def test_agreement_counts_identical_outputs_and_their_score_drift():
    def hyp(tokens: list[int], score: float) -> Hypothesis:
        return Hypothesis(tokens, score, [])

    reference = [hyp([5, 2], -1.0), hyp([6, 2], -2.0), None, hyp([7, 2], -0.5)]
    candidate = [hyp([5, 2], -1.1), hyp([6, 6, 2], -2.0), None, hyp([7, 2], -0.5)]
    measured = compare(reference, candidate, beam=1, sample="valid")
    assert measured.identical == 0.75 and measured.sentences == 4
    assert measured.max_score_diff == pytest.approx(0.1) and measured.mean_score_diff == pytest.approx(0.05)
    assert describe(measured).startswith("75.0% of 4 greedy outputs identical (valid sample), BLEU against float32 ")
    long = [hyp(list(range(4, 40)) + [2], -1.0) for _ in range(3)]
    parted = long[:2] + [hyp(list(range(4, 30)) + [31, 30] + list(range(32, 40)) + [2], -1.0)]  # a late near-tie
    assert compare(long, long, beam=1, sample="valid").bleu == 100
    assert 90 < compare(long, parted, beam=1, sample="valid").bleu < 100
    assert json.loads(json.dumps(measured.__dict__))["identical"] == 0.75
