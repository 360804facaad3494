"""The user's Rotowire path end to end on generated games: generate JSON, preprocess, fairseq-train
tlm_transformer_rotowire for a few updates (tiny dims), fairseq-generate and the BLEU script."""

import re

import pytest
from helpers import TINY_MODEL_ARGS
from helpers import PY, ROOT, fairseq_cmd, run

from tlm_fairseq.checkpoints import load_checkpoint


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    work = tmp_path_factory.mktemp("rotowire_smoke")
    run([PY, "-m", "preprocess.rotowire.synth", "--out-dir", work / "json",
         "--train", "16", "--valid", "3", "--test", "4", "--no-progress"])  # fmt: skip
    run([PY, "-m", "preprocess.rotowire", "--input-dir", work / "json", "--dest", work / "bin", "--no-progress"])
    train = run([
        *fairseq_cmd("train"), work / "bin", "--user-dir", ROOT / "tlm_fairseq",
        "--task", "data_to_text", "--arch", "tlm_transformer_rotowire", *TINY_MODEL_ARGS,
        "--tlm-rate", "0.1", "--optimizer", "adam", "--lr", "1e-3", "--max-tokens", "2048",
        "--criterion", "label_smoothed_cross_entropy", "--label-smoothing", "0.1",
        "--max-update", "4", "--save-dir", work / "ckpt", "--no-epoch-checkpoints",
        "--log-format", "simple", "--log-interval", "1", "--seed", "1", "--cpu", "--num-workers", "0",
    ])  # fmt: skip
    return work, train


def test_train_runs_and_checkpoint_loads_weights_only(pipeline):
    work, train = pipeline
    assert "num_updates 4" in train.stdout + train.stderr
    state = load_checkpoint(str(work / "ckpt" / "checkpoint_best.pt"))
    assert state["cfg"]["model"].arch == "tlm_transformer_rotowire"
    assert any(k.startswith("encoder.embed_fields.2.") for k in state["model"])


def test_generate_then_bleu_script(pipeline):
    work, _ = pipeline
    out = run([
        PY, ROOT / "scripts" / "eval_rotowire.py", "--data", work / "bin", "--split", "test",
        "--path", work / "ckpt" / "checkpoint_best.pt", "--beam", "2", "--max-len-b", "10",
        "--batch-size", "3", "--results-path", work / "gen", "--output", work / "hyps.txt", "--", "--cpu",
    ])  # fmt: skip
    log = (work / "gen" / "generate-test.txt").read_text()
    assert sorted(int(m) for m in re.findall(r"^H-(\d+)\t", log, re.M)) == [0, 1, 2, 3]
    assert "Generate test with beam=2" in log
    hyps = (work / "hyps.txt").read_text().splitlines()
    assert len(hyps) == 4 and all(0 < len(h.split()) <= 10 for h in hyps)
    lines = out.stdout.splitlines()
    assert lines[0] == "id\tlength\tnumbers\tin_records\tshare"
    assert [row.split("\t")[0] for row in lines[1:5]] == ["0", "1", "2", "3"]
    assert re.search(r"^BLEU \(tokenized text, --tokenize none\) = \d+\.\d\d", out.stdout, re.M)
    assert "signature: nrefs:1|case:mixed|eff:no|tok:none|smooth:exp|version:" in out.stdout
    assert "BLEU (--tokenize 13a)" in out.stdout and "tok:13a" in out.stdout
    assert "games: 4" in out.stdout
