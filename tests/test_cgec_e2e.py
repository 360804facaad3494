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
import re
import subprocess
from pathlib import Path

import pytest
from helpers import ENV as BASE_ENV
from helpers import PY, ROOT, run

from preprocess.cgec import prep as cgec
from preprocess.cgec.m2 import read_m2

SAMPLE = ROOT / "tests" / "data" / "cgec"
CHAR_GOLD = SAMPLE / "nlpcc18_test_sample.char.m2"
WORD_GOLD = SAMPLE / "nlpcc18_test_sample.word.m2"
TINY = ["--encoder-layers", "1", "--decoder-layers", "1", "--encoder-embed-dim", "32", "--decoder-embed-dim", "32",
        "--encoder-ffn-embed-dim", "64", "--decoder-ffn-embed-dim", "64",
        "--encoder-attention-heads", "2", "--decoder-attention-heads", "2"]
SHORT = ["--beam", "2", "--max-len-a", "0", "--max-len-b", "4", "--cpu"]
ENV = {**BASE_ENV, "PYTHON": PY}  # train_cgec.sh runs fairseq with $PYTHON


def eval_cgec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run([PY, ROOT / "scripts" / "eval_cgec.py", *args], cwd=cwd, check=False, env=ENV)


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
    train = run(
        ["bash", ROOT / "scripts" / "train_cgec.sh", prep / "data-bin", ckpt, "--reg", "tlm", "--cpu",
         "--max-update", "12", "--max-tokens", "2048", "--warmup-updates", "4", "--log-format", "simple", *TINY],
        check=False, env=ENV,
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


def test_e2e_gold_with_cherrant_t_lines_scores_like_tlm_m2(trained: tuple[Path, Path], tmp_path: Path) -> None:
    """eval_cgec reads --gold-m2 with tlm-m2's reader: ChERRANT T lines are accepted, not fatal,
    and a gold edit NUS scores although it is malformed gives tlm-m2's warning, not an error."""
    data_bin, ckpt = trained
    lines = CHAR_GOLD.read_text(encoding="utf-8").splitlines()
    with_t, first = [], True
    for line in lines:
        with_t.append(line)
        if line.startswith("S "):
            with_t.append("T0-A0 " + line[2:])
            if first:  # one edit past the end of the first sentence: NUS drops it
                with_t.append(f"A 0 {len(line[2:].split()) + 5}|||R|||x|||REQUIRED|||-NONE-|||0")
                first = False
    gold = tmp_path / "gold_t.m2"
    gold.write_text("\n".join(with_t) + "\n", encoding="utf-8")
    plain = eval_cgec("--data-bin", str(data_bin), "--checkpoint", str(ckpt), "--gold-m2", str(CHAR_GOLD),
                      "--output", str(tmp_path / "a.txt"), *SHORT, cwd=tmp_path)
    ev = eval_cgec("--data-bin", str(data_bin), "--checkpoint", str(ckpt), "--gold-m2", str(gold),
                   "--output", str(tmp_path / "b.txt"), *SHORT, cwd=tmp_path)
    assert plain.returncode == 0 and ev.returncode == 0, ev.stderr[-3000:]
    assert_scores(ev.stdout)
    scores = lambda out: [line for line in out.splitlines() if re.match(r"(Precision|Recall|F_)", line)]  # noqa: E731
    assert scores(ev.stdout) == scores(plain.stdout)
    warnings = [line for line in ev.stderr.splitlines() if "warning" in line]
    assert warnings == [f"eval_cgec.py: warning: {gold}:3: edit span 0 {len(lines[0].split()) - 1 + 5} outside "
                        f"the sentence (0..{len(lines[0].split()) - 1}); scored as NUS 3.2 does: not a gold edit"]
    tlm_m2 = run([PY, "-m", "tlm_fairseq.scoring.m2", str(tmp_path / "b.txt.char.tok"), gold])
    assert scores(tlm_m2.stdout) == scores(ev.stdout)
    assert tlm_m2.stderr.replace("tlm-m2:", "eval_cgec.py:").splitlines() == warnings


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
         "mucgec_dev_sample.txt:1: a block must start with an 'S' line"),
        (["--data-bin", str(data_bin), "--checkpoint", str(ckpt), "--output", "h", "--input", str(SAMPLE / "mucgec_dev_sample.txt"),
          "--input-format", "mucgec", "--gold-m2", str(CHAR_GOLD)], "has 60 sentences but"),
        (["--data-bin", str(data_bin), "--checkpoint", str(ckpt)], "the following arguments are required: --output"),
    ]
    for args, message in cases:
        proc = eval_cgec(*args, cwd=tmp_path)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr
    assert not (tmp_path / "h").exists()
