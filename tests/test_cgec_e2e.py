"""END-TO-END (slow, about a minute and a half on 2 cores): the whole CGEC recipe on the embedded sample.

preprocess the sample (NLPCC-2018-format + MuCGEC training data, NLPCC18 test sentences as the
test split) -> binarize -> ``scripts/train_cgec.sh`` trains a tiny TLM model for a few updates on
CPU -> ``scripts/eval_cgec.py`` generates (``fairseq-generate`` on the binarized split, and
``fairseq-interactive`` on a raw M2 file), restores order, detokenizes and scores against the gold
M2 at character and word level. It checks the plumbing, not the quality: hypotheses are capped at
a few tokens because an untrained model's long garbage makes M2 scoring (any MaxMatch
implementation) explode in time and memory.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from preprocess.cgec import prep as cgec
from preprocess.cgec.m2 import read_m2

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "cgec"
CHAR_GOLD = SAMPLE / "nlpcc18_test_sample.char.m2"
WORD_GOLD = SAMPLE / "nlpcc18_test_sample.word.m2"
TINY = ["--encoder-layers", "1", "--decoder-layers", "1", "--encoder-embed-dim", "32", "--decoder-embed-dim", "32",
        "--encoder-ffn-embed-dim", "64", "--decoder-ffn-embed-dim", "64",
        "--encoder-attention-heads", "2", "--decoder-attention-heads", "2"]
SHORT = ["--beam", "2", "--max-len-a", "0", "--max-len-b", "4", "--cpu"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHON": sys.executable}


def eval_cgec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "eval_cgec.py"), *args],
                          capture_output=True, text=True, env=ENV, cwd=cwd)


def assert_scores(stdout: str) -> None:
    for name in ("Precision", "Recall", "F_0.5"):
        assert re.search(rf"^{re.escape(name)}\s*: [0-9.]+$", stdout, re.M), stdout


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(data-bin, checkpoint) of a tiny TLM model trained for a few updates on the sample."""
    tmp = tmp_path_factory.mktemp("cgec_e2e")
    prep = tmp / "prep"
    assert cgec.main([
        "--train-nlpcc", str(SAMPLE / "nlpcc2018_format_sample.txt"), "--train-mucgec", str(SAMPLE / "mucgec_dev_sample.txt"),
        "--valid-size", "20", "--test-m2", str(CHAR_GOLD), "--out", str(prep),
    ]) == 0
    ckpt = tmp / "ckpt"
    train = subprocess.run(
        ["bash", str(ROOT / "scripts" / "train_cgec.sh"), str(prep / "data-bin"), str(ckpt), "--reg", "tlm", "--cpu",
         "--max-update", "12", "--max-tokens", "2048", "--warmup-updates", "4", "--log-format", "simple", *TINY],
        capture_output=True, text=True, env=ENV, cwd=ROOT,
    )
    log = train.stdout + train.stderr
    assert train.returncode == 0, log[-3000:]
    assert "TLMTransformerModel" in log and "tlm_rate=0.1" in log and "arch='tlm_transformer_cgec'" in log, log[-3000:]
    return prep / "data-bin", ckpt / "checkpoint_best.pt"


def test_e2e_generate_binarized_split_and_score_char_level(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data_bin, ckpt = trained
    test_src = (data_bin.parent / "text" / "test.src").read_text(encoding="utf-8").splitlines()
    gold = list(read_m2(CHAR_GOLD))
    assert [line.replace(" ", "") for line in test_src] == ["".join(s.tokens) for s in gold]  # same sentences, same order
    hyp, metrics = tmp_path / "out" / "hyp.txt", tmp_path / "out" / "metrics.json"
    ev = eval_cgec("--data-bin", str(data_bin), "--checkpoint", str(ckpt), "--split", "test", "--gold-m2", str(CHAR_GOLD),
                   "--output", str(hyp), "--metrics-json", str(metrics), *SHORT, cwd=tmp_path)
    assert ev.returncode == 0, ev.stderr[-3000:]
    assert_scores(ev.stdout)
    lines = hyp.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(gold) == 60
    assert all(len(line.replace(" ", "")) <= 4 for line in lines)
    tok = Path(str(hyp) + ".char.tok").read_text(encoding="utf-8").splitlines()
    assert [t.replace(" ", "") for t in tok] == [line.replace(" ", "") for line in lines]
    assert {"Precision", "Recall", "F_0.5"} <= set(json.loads(metrics.read_text()))


def test_e2e_interactive_raw_m2_input_word_level(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data_bin, ckpt = trained
    hyp = tmp_path / "hyp.txt"
    ev = eval_cgec("--data-bin", str(data_bin), "--checkpoint", str(ckpt), "--input", str(WORD_GOLD), "--input-format", "m2",
                   "--gold-m2", str(WORD_GOLD), "--m2-level", "word", "--output", str(hyp), *SHORT, cwd=tmp_path)
    assert ev.returncode == 0, ev.stderr[-3000:]
    assert_scores(ev.stdout)
    assert len(hyp.read_text(encoding="utf-8").splitlines()) == 60
    assert Path(str(hyp) + ".word.tok").is_file()


def test_eval_errors_are_one_line_with_exit_2(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data_bin, ckpt = trained
    cases = [
        (["--data-bin", str(tmp_path), "--checkpoint", str(ckpt), "--output", "h"], "not a data-bin"),
        (["--data-bin", str(data_bin), "--checkpoint", str(tmp_path / "none.pt"), "--output", "h"], "checkpoint not found"),
        (["--data-bin", str(data_bin), "--checkpoint", str(ckpt), "--output", "h", "--split", "valid2"], "no binarized split 'valid2'"),
        (["--data-bin", str(data_bin), "--checkpoint", str(ckpt), "--output", "h", "--gold-m2", str(SAMPLE / "mucgec_dev_sample.txt")],
         "mucgec_dev_sample.txt:1: expected a line starting with 'S '"),
        (["--data-bin", str(data_bin), "--checkpoint", str(ckpt), "--output", "h", "--input", str(SAMPLE / "mucgec_dev_sample.txt"),
          "--input-format", "mucgec", "--gold-m2", str(CHAR_GOLD)], "has 60 sentences but"),
        (["--data-bin", str(data_bin), "--checkpoint", str(ckpt)], "the following arguments are required: --output"),
    ]
    for args, message in cases:
        proc = eval_cgec(*args, cwd=tmp_path)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr
    assert not (tmp_path / "h").exists()
