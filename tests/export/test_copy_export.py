"""Copy models (``tlm_transformer_rotowire --copy``) through tlm-export, tlm-generate and tlm-serve:
the same outputs as fairseq-generate, with values outside the target vocabulary copied from the
game's records and printed as their strings by both."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import PY, run
from test_export_generate import compare, fairseq_generate, tlm_generate


def target_vocabulary(data: Path) -> set[str]:
    """The target dictionary's symbols, fairseq's control symbols (``<unk>``) included."""
    return {"<s>", "<pad>", "</s>", "<unk>"} | {line.split()[0] for line in (data / "dict.tgt.txt").read_text().splitlines()}


@pytest.mark.parametrize("beam", ["1", "5"])
def test_copy_model_generates_like_fairseq(rotowire_copy, beam):
    opts = ["--beam", beam, "--max-len-b", "80"]
    ref = fairseq_generate(rotowire_copy["data"], rotowire_copy["checkpoint"], *opts, "--batch-size", "3",
                           task_args=("--task", "data_to_text"))
    ours = tlm_generate(rotowire_copy["model_dir"], rotowire_copy["games"], *opts, "--batch-size", "5")
    same, worst, diffs = compare(ref, ours)
    if beam == "1":
        assert same == len(ours) == 8 and worst < 1e-3, diffs[:1]
    else:
        assert same >= 0.99 * len(ours) and worst < 1e-3, diffs[:1]
    vocabulary = target_vocabulary(rotowire_copy["data"])
    copied = [t for r in ours for t in r["hypotheses"][0]["tokens"].split() if t not in vocabulary]
    assert copied or beam != "1", "no greedy output copied a value from outside the target vocabulary"
    games = json.loads(Path(rotowire_copy["games"]).read_text())
    for record, game in zip(ours, games):  # every copied string is one of that game's own values
        values = json.dumps(game)
        for token in record["hypotheses"][0]["tokens"].split():
            assert token in vocabulary or token in values, token


def test_the_config_says_copy_and_a_plain_runtime_key_set_is_refused(rotowire_copy, rotowire, tmp_path):
    config = json.loads((rotowire_copy["model_dir"] / "config.json").read_text())
    assert config["source"]["copy"] is True
    assert "copy" not in json.loads((rotowire["model_dir"] / "config.json").read_text())["source"]
    edited = tmp_path / "edited"
    shutil.copytree(rotowire_copy["model_dir"], edited)
    del config["source"]["copy"]  # now it claims a plain record model: the graphs say otherwise
    (edited / "config.json").write_text(json.dumps(config))
    proc = run([PY, "-m", "export.generate", "--model-dir", edited, "--input", rotowire_copy["games"],
                "--threads", "1"], check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and lines[-1].startswith("tlm-generate: error: "), proc.stderr[-2000:]
    assert "encoder.onnx: graph inputs/outputs" in lines[-1] and "copy_source" in lines[-1] and "re-export" in lines[-1]


def test_a_copy_model_needs_opset_16(rotowire_copy, tmp_path):
    out = tmp_path / "onnx"
    proc = run([PY, "-m", "export.onnx_export", "--checkpoint", rotowire_copy["checkpoint"],
                "--data", rotowire_copy["data"], "--out", out, "--opset", "15"], check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and lines[-1] == ("tlm-export: error: --opset 15: a copy model needs opset >= 16 "
                                                  "(its mix scatters with ScatterElements reduction='add')")
    assert not out.exists()


def test_served_summary_copies_the_games_values(rotowire_copy, serving):
    import httpx

    games = json.loads(Path(rotowire_copy["games"]).read_text())[:3]
    expected = tlm_generate(rotowire_copy["model_dir"], rotowire_copy["games"], "--beam", "1", "--max-len-b", "80")
    with serving(rotowire_copy["model_dir"]) as url:
        reply = httpx.post(f"{url}/v1/generate", json={"inputs": games, "beam": 1, "max_len_b": 80}, timeout=60)
    assert reply.status_code == 200, reply.text
    outputs = reply.json()["outputs"]
    assert outputs == [r["output"] for r in expected[:3]]
    vocabulary = target_vocabulary(rotowire_copy["data"])
    assert any(t not in vocabulary for out in outputs for t in out.split())


def test_io_binding_and_batching_do_not_change_copied_outputs(rotowire_copy):
    """The I/O-bound decoder state (CUDA's, here on CPU) feeds the copy inputs too, and a game's
    out-of-vocabulary slots do not depend on which games share its batch."""
    from export.generate import Generator

    games = json.loads(Path(rotowire_copy["games"]).read_text())
    plain = Generator(rotowire_copy["model_dir"], device="cpu", threads=1)
    base = [r.output for r in plain.generate(games, beam=3, max_len_b=40, batch_size=8)]
    assert [r.output for r in plain.generate(games, beam=3, max_len_b=40, batch_size=1)] == base
    bound = Generator(rotowire_copy["model_dir"], device="cpu", threads=1, io_binding=True)
    assert [r.output for r in bound.generate(games, beam=3, max_len_b=40, batch_size=3)] == base
