"""config.json: typed round trip, and one-line errors naming config.json and the key at fault."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from export.config import ExportConfig
from export.errors import ConfigProblem
from export.model_dir import ModelDir
from export.search_options import SearchOptions
from helpers import PY, run

CONFIG = Path("model/config.json")


def text_config() -> dict[str, Any]:
    """A complete config of a text model, as tlm-export writes it."""
    return {
        "format": "tlm-fairseq-onnx", "format_version": 1, "task": "text", "arch": "tlm_transformer",
        "checkpoint": "checkpoint_last.pt", "checkpoint_sha256": "ab" * 32, "opset": 17,
        "dims": {"encoder_layers": 2, "decoder_layers": 2, "heads": 4, "head_dim": 16, "embed_dim": 64,
                 "target_vocab": 60, "source_vocab": 60, "field_vocab": None},
        "symbols": {"bos": 0, "pad": 1, "eos": 2, "unk": 3},
        "source": {"kind": "tokens", "dictionary": "dict.source.txt", "fields": None, "dictionaries": None,
                   "max_records": None},
        "target": {"dictionary": "dict.target.txt"},
        "tokenizer": {"kind": "zh_char", "model": None},
        "max_source_positions": 64, "max_target_positions": 64,
        "generation": SearchOptions().as_dict(),
        "graphs": {"float32": {"encoder": "encoder.onnx", "decoder": "decoder.onnx"}},
        "verified_max_logprob_diff": 3e-6,
        "files": {name: "0" * 64 for name in ("dict.source.txt", "dict.target.txt", "encoder.onnx", "decoder.onnx")},
    }


def records_config() -> dict[str, Any]:
    config = text_config()
    fields = ["value", "entity", "type", "ha"]
    config.update(task="records", arch="tlm_transformer_rotowire", tokenizer={"kind": "records"},
                  source={"kind": "records", "fields": fields, "max_records": 48,
                          "dictionaries": {f: f"dict.{f}.txt" for f in fields}})
    config["dims"].update(source_vocab=None, field_vocab={f: 10 for f in fields})
    config["files"].update({f"dict.{f}.txt": "0" * 64 for f in fields})
    del config["files"]["dict.source.txt"]
    return config


def test_both_kinds_read_and_round_trip(tmp_path):
    for data in (text_config(), records_config()):
        config = ExportConfig.from_dict(data, CONFIG)
        assert isinstance(config.generation, SearchOptions)
        config.to_json(tmp_path / "config.json")
        assert ExportConfig.from_json(tmp_path / "config.json") == config
        assert json.loads((tmp_path / "config.json").read_text()) == {
            "quantization": None, "int8_agreement": None,  # written, as None, by exports without int8 graphs
            **data, "source": {"dictionary": None, "fields": None, "dictionaries": None, "max_records": None,
                               **data["source"]}, "tokenizer": {"model": None, **data["tokenizer"]}}


def edit(data: dict[str, Any], key: str, value: Any = KeyError) -> dict[str, Any]:
    """A copy of ``data`` with the dotted ``key`` set to ``value`` (deleted when it is KeyError)."""
    data = copy.deepcopy(data)
    *parents, last = key.split(".")
    node = data
    for part in parents:
        node = node[part]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return data


def sentencepiece_without_model() -> dict[str, Any]:
    return edit(text_config(), "tokenizer", {"kind": "sentencepiece"})


BAD = [
    (edit(text_config(), "tokenizer"), "tokenizer", "missing key 'tokenizer'"),
    (sentencepiece_without_model(), "tokenizer.model", "missing key 'tokenizer.model'"),
    (edit(records_config(), "source.dictionaries"), "source.dictionaries", "missing key 'source.dictionaries'"),
    (edit(records_config(), "source.dictionaries.type"), "source.dictionaries.type",
     "missing key 'source.dictionaries.type'"),
    (edit(text_config(), "dims.heads", "4"), "dims.heads", "key 'dims.heads': expected an integer, got a string ('4')"),
    (edit(text_config(), "dims.heads", 4.0), "dims.heads", "key 'dims.heads': expected an integer, got a number (4.0)"),
    (edit(text_config(), "dims.heads", 0), "dims.heads", "key 'dims.heads': must be positive, got 0"),
    (edit(text_config(), "max_source_positions", True), "max_source_positions",
     "key 'max_source_positions': expected an integer, got a boolean (True)"),
    (edit(text_config(), "dims"), "dims", "missing key 'dims'"),
    (edit(text_config(), "symbols", [0, 1, 2, 3]), "symbols", "key 'symbols': expected an object, got a list"),
    (edit(text_config(), "task", "image"), "task", "key 'task': expected one of 'text', 'records', got a string"),
    (edit(text_config(), "generation.lenpen", 1e4), "generation.lenpen",
     "key 'generation.lenpen': 10000.0 is outside [-10, 10]"),
    (edit(text_config(), "generation.lenpen", "1"), "generation.lenpen",
     "key 'generation.lenpen': expected a finite number, got a string"),
    (edit(text_config(), "generation.temperature", 1.0), "generation.temperature", "unknown key 'generation.temperature'"),
    (edit(text_config(), "graphs.float32.encoder", "../encoder.onnx"), "graphs.float32.encoder",
     "key 'graphs.float32.encoder': '../encoder.onnx' is not a file name inside the model directory"),
    (edit(text_config(), "graphs.float32.decoder", "/etc/decoder.onnx"), "graphs.float32.decoder",
     "'/etc/decoder.onnx' is not a file name inside the model directory"),
    (edit(text_config(), "graphs.float32.decoder", "other.onnx"), "graphs.float32.decoder",
     "'other.onnx' is not listed under 'files'"),
    (edit(text_config(), "graphs.float32"), "graphs.float32", "missing key 'graphs.float32'"),
    (edit(text_config(), "graphs.bfloat16", {"encoder": "encoder.onnx", "decoder": "decoder.onnx"}),
     "graphs.bfloat16", "unknown precision 'bfloat16'"),
    (edit(text_config(), "tokenizer.kind", "records"), "tokenizer.kind", "a text model needs one of zh_char"),
    (edit(records_config(), "dims.field_vocab.ha"), "dims.field_vocab.ha", "missing key 'dims.field_vocab.ha'"),
    (edit(text_config(), "format_version", 2), "format_version", "format_version 2 is not supported"),
    (edit(text_config(), "format", "onnx"), "format", "not a tlm-fairseq-onnx config"),
]


@pytest.mark.parametrize("data,key,message", BAD, ids=[f"{i}-{case[1]}" for i, case in enumerate(BAD)])
def test_errors_name_config_json_and_the_key(data, key, message):
    with pytest.raises(ConfigProblem) as caught:
        ExportConfig.from_dict(data, CONFIG)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{CONFIG}: ") and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_commands_report_a_bad_config_at_start_up(cgec, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(cgec["model_dir"], model)
    config = json.loads((model / "config.json").read_text())
    assert ExportConfig.from_dict(config, model / "config.json") == ModelDir.load(cgec["model_dir"]).config
    del config["tokenizer"]
    (model / "config.json").write_text(json.dumps(config))
    expected = f"{model / 'config.json'}: missing key 'tokenizer'\n"
    generate = run([PY, "-m", "export.generate", "--model-dir", model], check=False, input="我们\n")
    assert generate.returncode == 2 and generate.stderr == f"tlm-generate: error: {expected}"
    serve = run([PY, "-m", "export.server", "--model-dir", model, "--port", "1"], check=False, timeout=120)
    assert serve.returncode == 2 and serve.stderr == f"tlm-serve: error: {expected}"
