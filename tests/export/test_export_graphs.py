"""tlm-export: what lands in the model directory, graph hygiene, architecture variants, bad input."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper

from export.config import ExportConfig, GraphPair, SpecialIds, Tokenizer
from export.errors import DictionaryMismatch, FileProblem, UnsupportedModel
from export.model_dir import ModelDir, sha256_file
from export.onnx_export import RANDOM_OPS, graph_ops
from helpers import PY, ROOT, run
from tlm_fairseq.errors import InputError, UserError

RUNTIME_MAX_IR = 10  # onnxruntime 1.31 refuses IR 14 (onnx 1.23's default)


def export_cli(capsys, *args) -> tuple[int, str]:
    """tlm-export in this process (no second fairseq import): exit status and stderr."""
    from export.onnx_export import main

    status = main([str(a) for a in args])
    return status, capsys.readouterr().err


def test_model_dir_is_complete_and_graphs_are_valid(cgec):
    model = ModelDir.load(cgec["model_dir"])
    cfg = model.config
    assert cfg.task == "text" and cfg.arch == "tlm_transformer"
    assert set(cfg.graphs) == {"float32", "float16"}
    assert cfg.symbols == SpecialIds(bos=0, pad=1, eos=2, unk=3)
    assert cfg.dims.decoder_layers == 2 and cfg.dims.heads == 4 and cfg.dims.head_dim == 16
    assert cfg.max_source_positions == 64 and cfg.max_target_positions == 64
    assert cfg.tokenizer == Tokenizer("zh_char") and cfg.generation.beam == 5
    assert cfg.verified_max_logprob_diff is not None and cfg.verified_max_logprob_diff < 1e-4
    assert len(model.source_dicts["tokens"]) == cfg.dims.source_vocab == len(model.target_dict)
    assert (cfg.graphs["float32"].decoder_inplace, cfg.graphs["float16"].decoder_inplace) == ("decoder.inplace.onnx", None)
    for precision, pair in cfg.graphs.items():
        for which, name in vars(pair).items():
            if which == "decoder_inplace":  # its inputs and outputs: tests/export/test_kv_cache.py
                continue
            graph = onnx.load(str(cgec["model_dir"] / name))
            onnx.checker.check_model(graph, full_check=True)
            assert graph.ir_version <= RUNTIME_MAX_IR
            names = {i.name: i for i in graph.graph.input}
            if which == "encoder":
                dims = names["src"].type.tensor_type.shape.dim
                assert [d.dim_param for d in dims] == ["batch", "src_len"]  # dynamic batch and length
            else:
                assert set(names) == {"tokens", "reorder", "src_padding", "past_key_0", "past_value_0", "past_key_1",
                                      "past_value_1", "cross_key_0", "cross_value_0", "cross_key_1", "cross_value_1"}
                past = names["past_key_1"].type.tensor_type
                assert past.shape.dim[0].dim_param and past.shape.dim[2].dim_param  # rows and cached length
                expected = TensorProto.FLOAT16 if precision == "float16" else TensorProto.FLOAT
                assert past.elem_type == expected
            ort.InferenceSession(str(cgec["model_dir"] / name), providers=["CPUExecutionProvider"])


def test_no_training_only_operator_in_any_graph(cgec, rotowire):
    # Both checkpoints were trained with TLM (and DropHead for the text model) switched on.
    for model_dir in (cgec["model_dir"], rotowire["model_dir"]):
        cfg = ExportConfig.from_json(model_dir / "config.json")
        for pair in cfg.graphs.values():
            for name in (pair.encoder, pair.decoder):
                ops = graph_ops(onnx.load(str(model_dir / name)))
                assert "MatMul" in ops and not ops & RANDOM_OPS, (name, sorted(ops))


def test_operator_scan_sees_random_ops_in_subgraphs():
    inner = helper.make_graph([helper.make_node("RandomUniformLike", ["x"], ["r"])], "then", [],
                              [helper.make_tensor_value_info("r", TensorProto.FLOAT, [1])])
    node = helper.make_node("If", ["c"], ["y"], then_branch=inner, else_branch=inner)
    graph = helper.make_graph([node, helper.make_node("Dropout", ["x"], ["z"])], "g",
                              [helper.make_tensor_value_info("c", TensorProto.BOOL, [])], [])
    assert {"RandomUniformLike", "Dropout"} <= graph_ops(helper.make_model(graph)) & RANDOM_OPS


def test_rotowire_record_export(rotowire):
    model = ModelDir.load(rotowire["model_dir"])
    cfg = model.config
    assert cfg.task == "records" and cfg.arch == "tlm_transformer_rotowire"
    assert cfg.source.fields == ("value", "entity", "type", "ha") and cfg.source.max_records == 48
    assert cfg.tokenizer == Tokenizer("records") and cfg.graphs == {
        "float32": GraphPair("encoder.onnx", "decoder.onnx", "decoder.inplace.onnx")}
    assert set(model.source_dicts) == {"value", "entity", "type", "ha"}
    src = onnx.load(str(rotowire["model_dir"] / "encoder.onnx")).graph.input[0]
    assert [d.dim_param or d.dim_value for d in src.type.tensor_type.shape.dim] == ["batch", "src_len", 4]


VARIANTS = {
    "post-norm, sinusoidal, shared": [],
    "pre-norm, learned, layernorm_embedding": ["--encoder-normalize-before", "--decoder-normalize-before",
                                               "--encoder-learned-pos", "--decoder-learned-pos",
                                               "--layernorm-embedding", "--no-scale-embedding"],
    "unshared output, gelu, decoder output dim": ["--activation-fn", "gelu", "--decoder-output-dim", "24",
                                                  "--no-share"],
}


def _build_random_model(data: Path, extra: list[str], arch: str = "tlm_transformer"):
    """A randomly initialized model of ``arch`` with ``extra`` options, as fairseq builds it."""
    import tlm_fairseq
    from fairseq import options, tasks

    tlm_fairseq.register()  # the package may have been imported (torch-free) before fairseq

    share = [] if "--no-share" in extra else ["--share-decoder-input-output-embed"]
    parser = options.get_training_parser()
    args = options.parse_args_and_arch(parser, [str(data), "--arch", arch, "--user-dir", str(ROOT / "tlm_fairseq"),
                                                "--encoder-layers", "1", "--decoder-layers", "2",
                                                "--encoder-embed-dim", "32", "--decoder-embed-dim", "32",
                                                "--encoder-ffn-embed-dim", "48", "--decoder-ffn-embed-dim", "48",
                                                "--encoder-attention-heads", "2", "--decoder-attention-heads", "4",
                                                *share, *[e for e in extra if e != "--no-share"]])
    task = tasks.setup_task(args)
    torch.manual_seed(0)
    return task.build_model(args).eval(), task, args


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_architecture_variants_match_fairseq(cgec, tmp_path, variant):
    from export.checkpoint import LoadedCheckpoint
    from export.graph_io import decoder_io, encoder_io
    from export.onnx_export import _build_graphs, _export_graph, _trace_args, _verify_against_fairseq

    model, task, args = _build_random_model(cgec["data"], VARIANTS[variant])
    cfg = argparse.Namespace(task=task.cfg)
    ckpt = LoadedCheckpoint(model, task, cfg, args.arch, tmp_path / "none.pt", cgec["data"], sha256="0" * 64)  # no file
    sizes = {"source": len(task.source_dictionary), "target": len(task.target_dictionary)}
    encoder, decoder = _build_graphs(ckpt)
    enc_args, dec_args = _trace_args(encoder, ckpt, sizes, 1, 2, torch.float32)
    layers = len(model.decoder.layers)
    _export_graph(encoder, enc_args, tmp_path / "e.onnx", encoder_io(layers), 17)
    _export_graph(decoder, dec_args, tmp_path / "d.onnx", decoder_io(layers), 17)
    assert _verify_against_fairseq(ckpt, tmp_path / "e.onnx", tmp_path / "d.onnx", sizes, 1, 2) < 1e-4


def test_unsupported_option_is_refused_naming_the_checkpoint(cgec, tmp_path):
    from export.architecture import check_supported

    model, _, _ = _build_random_model(cgec["data"], ["--cross-self-attention"], arch="transformer")
    with pytest.raises(UnsupportedModel, match=r"ckpt\.pt: architecture 'x' cannot be exported: .*cross-self-attention"):
        check_supported(model, str(tmp_path / "ckpt.pt"), "x")


def test_export_errors_name_the_file(cgec, tmp_path, capsys):
    ckpt, data = cgec["checkpoint"], cgec["data"]
    out = tmp_path / "out"
    status, err = export_cli(capsys, "--checkpoint", tmp_path / "nope.pt", "--data", data, "--out", out)
    assert status == 2 and f"{tmp_path / 'nope.pt'}: checkpoint not found" in err

    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(ckpt.read_bytes()[:5000])
    status, err = export_cli(capsys, "--checkpoint", corrupt, "--data", data, "--out", out)
    assert status == 2 and f"{corrupt}: cannot read checkpoint" in err

    status, err = export_cli(capsys, "--checkpoint", ckpt, "--data", tmp_path / "nodata", "--out", out)
    assert status == 2 and f"{tmp_path / 'nodata'}: data directory not found" in err

    state = torch.load(ckpt, weights_only=False)  # our own checkpoint, written by the fixture
    state["cfg"]["model"].arch = "lstm"
    state["cfg"]["model"]._name = "lstm"
    lstm = tmp_path / "lstm.pt"
    torch.save(state, lstm)
    status, err = export_cli(capsys, "--checkpoint", lstm, "--data", data, "--out", out)
    assert status == 2 and f"{lstm}: architecture 'lstm' (LSTMModel) is not supported" in err

    bigger = tmp_path / "bigger"
    shutil.copytree(data, bigger)
    with open(bigger / "dict.tgt.txt", "a") as handle:
        handle.write("extra1 1\n")
    status, err = export_cli(capsys, "--checkpoint", ckpt, "--data", bigger, "--out", out)
    assert status == 2 and f"{bigger / 'dict.tgt.txt'}: differs from {bigger / 'dict.src.txt'}" in err
    with open(bigger / "dict.src.txt", "a") as handle:
        handle.write("extra1 1\n")
    status, err = export_cli(capsys, "--checkpoint", ckpt, "--data", bigger, "--out", out)
    assert status == 2 and f"{bigger / 'dict.src.txt'}: does not match the checkpoint" in err and "size mismatch" in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # nothing half-written

    status, err = export_cli(capsys, "--checkpoint", ckpt, "--data", data, "--out", out, "--opset", "9")
    assert status == 2 and "--opset must be in [14, 20]" in err


def test_export_replaces_only_a_previous_export(cgec, tmp_path, capsys):
    ckpt, data = cgec["checkpoint"], cgec["data"]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    for extra in ([], ["--force"]):
        status, err = export_cli(capsys, "--checkpoint", ckpt, "--data", data, "--out", foreign, *extra)
        assert status == 2 and "is not an output of this tool; refusing to replace it" in err, err
    assert os.listdir(foreign) == ["notes.txt"] and (foreign / "notes.txt").read_text() == "mine"

    previous = _copy_model(cgec["model_dir"], tmp_path / "previous")
    (previous / "stale.txt").write_text("left by an older export")
    status, err = export_cli(capsys, "--checkpoint", ckpt, "--data", data, "--out", previous)
    assert status == 2 and "holds a previous export (pass --force to replace it)" in err
    assert (previous / "stale.txt").exists()
    status, err = export_cli(capsys, "--checkpoint", ckpt, "--data", data, "--out", previous, "--force")
    assert status == 0, err
    assert not (previous / "stale.txt").exists() and set(ModelDir.load(previous).config.graphs) == {"float32"}
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(previous.stat().st_mode) == 0o777 & ~umask  # a plain mkdir's, not mkdtemp's 0700
    assert stat.S_IMODE((previous / "config.json").stat().st_mode) == 0o666 & ~umask
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".previous")]

    empty = tmp_path / "empty"
    empty.mkdir()
    status, err = export_cli(capsys, "--checkpoint", ckpt, "--data", data, "--out", empty)
    assert status == 0, err
    assert issubclass(FileProblem, UserError)  # so every command prints it as one line


def _copy_model(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_model_dir_problems_are_named(cgec, tmp_path):
    with pytest.raises(FileProblem, match="model directory not found"):
        ModelDir.load(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileProblem, match=r"empty/config\.json: missing"):
        ModelDir.load(empty)

    broken = _copy_model(cgec["model_dir"], tmp_path / "broken")
    (broken / "config.json").write_text("{not json")
    with pytest.raises(FileProblem, match=r"broken/config\.json: corrupt config"):
        ModelDir.load(broken)

    truncated = _copy_model(cgec["model_dir"], tmp_path / "truncated")
    data = (truncated / "decoder.onnx").read_bytes()
    (truncated / "decoder.onnx").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileProblem, match=r"truncated/decoder\.onnx: corrupt"):
        ModelDir.load(truncated)
    (truncated / "decoder.onnx").unlink()
    with pytest.raises(FileProblem, match=r"truncated/decoder\.onnx: missing"):
        ModelDir.load(truncated)

    dict_mismatch = _copy_model(cgec["model_dir"], tmp_path / "dicts")
    with open(dict_mismatch / "dict.target.txt", "a") as handle:
        handle.write("extra 1\n")
    config = json.loads((dict_mismatch / "config.json").read_text())
    config["files"]["dict.target.txt"] = sha256_file(dict_mismatch / "dict.target.txt")
    (dict_mismatch / "config.json").write_text(json.dumps(config))
    with pytest.raises(DictionaryMismatch, match=r"dicts/dict\.target\.txt: has \d+ symbols but the model's embedding"):
        ModelDir.load(dict_mismatch)

    bad_dict = _copy_model(cgec["model_dir"], tmp_path / "baddict")
    (bad_dict / "dict.source.txt").write_text("a 1\nb\n")
    with pytest.raises(InputError, match=r"baddict/dict\.source\.txt:2: expected '<symbol> <count>"):
        ModelDir.load(bad_dict, verify_checksums=False)

    # The CLI reports the same, with exit status 2 and no traceback.
    proc = run([PY, "-m", "export.generate", "--model-dir", broken], check=False, input="x\n")
    assert proc.returncode == 2 and "config.json: corrupt config" in proc.stderr and "Traceback" not in proc.stderr


def test_graph_that_onnxruntime_cannot_load_is_named(cgec, tmp_path):
    from export.runtime import Sessions

    bad = _copy_model(cgec["model_dir"], tmp_path / "bad")
    (bad / "encoder.onnx").write_bytes(b"not an onnx model")
    model = ModelDir.load(bad, verify_checksums=False)
    with pytest.raises(FileProblem, match=r"bad/encoder\.onnx: onnxruntime cannot load"):
        Sessions.open(model, device="cpu")
    shutil.copyfile(bad / "decoder.onnx", bad / "encoder.onnx")  # a valid graph, but not an encoder
    with pytest.raises(FileProblem, match=r"bad/encoder\.onnx: graph inputs/outputs .* re-export"):
        Sessions.open(model, device="cpu")


def test_dictionary_reader_numbers_like_fairseq(cgec):
    from fairseq.data import Dictionary

    from export.dictionary import read_dictionary

    path = cgec["data"] / "dict.src.txt"
    assert read_dictionary(path).symbols == Dictionary.load(str(path)).symbols
    assert np.all(np.asarray(read_dictionary(path).encode(["我", "zz"], True)) ==
                  np.asarray([Dictionary.load(str(path)).index("我"), 3, 2]))
