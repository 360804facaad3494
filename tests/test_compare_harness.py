"""scripts/compare_regularizers.py end to end on a tiny synthetic GEC task: real fairseq runs, scores,
tables, plots, cap-hit flags, statistics, resume without rerunning, and one-line failures."""
import csv
import json

import pytest
from helpers import PY, ROOT, run

SCRIPT = ROOT / "scripts" / "compare_regularizers.py"
MODEL = ["--arch", "tlm_transformer", "--encoder-layers", "1", "--decoder-layers", "1", "--encoder-embed-dim", "32",
         "--decoder-embed-dim", "32", "--encoder-ffn-embed-dim", "64", "--decoder-ffn-embed-dim", "64",
         "--encoder-attention-heads", "2", "--decoder-attention-heads", "2", "--optimizer", "adam", "--lr", "3e-3",
         "--max-tokens", "600", "--num-workers", "0"]


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    run([PY, "-m", "preprocess.cgec.synth", "--out", d / "raw", "--symbols", "30", "--degree", "3", "--train", "120",
         "--valid", "20", "--test", "24", "--min-len", "4", "--max-len", "7"])
    run([PY, "-m", "fairseq_cli.preprocess", "--source-lang", "src", "--target-lang", "tgt", "--trainpref", d / "raw/train",
         "--validpref", d / "raw/valid", "--testpref", d / "raw/test", "--destdir", d / "bin", "--joined-dictionary",
         "--workers", "1"])
    return d


def harness(task, out, *extra, check=True):
    return run([PY, SCRIPT, task / "bin", "--out", out, "--work", out.parent / "work", "--test-m2", task / "raw/test.m2",
                "--test-ref", task / "raw/test.tgt", "--methods", "none", "tlm", "--chosen", "tlm=0.1",
                "--test-seeds", "2", "3", "--ablation-seeds", "--max-update", "20", "--valid-every", "10",
                "--patience", "3", "--resamples", "200", *extra, "--", *MODEL], check=check)


def test_study_end_to_end_then_resume(task, tmp_path):
    out = tmp_path / "study"
    first = harness(task, out, "--jobs", "2")  # two runs at once, one thread each
    rows = list(csv.DictReader(open(out / "runs.csv")))
    assert sorted(r["run"] for r in rows) == ["none-seed2", "none-seed3", "tlm-both-0.1-seed2", "tlm-both-0.1-seed3"]
    for r in rows:
        # 20 updates cannot exhaust a patience of 3 validations: every run hit the cap, and says so
        assert r["cap_hit"] == "yes" and r["last_update"] == "20" and r["phases"] == "test"
        assert 0 <= float(r["test_F0.5"]) <= 1 and 0 <= float(r["test_exact_match"]) <= 1 and r["test_BLEU"]
    result = json.loads((out / "runs/none-seed2/result.json").read_text())
    assert [u for u, _ in result["curve"]] == [10, 20] and result["best_update"] in (10, 20)
    assert "--tlm-rate 0 " in result["command"] and "--seed 2" in result["command"]
    stats = json.loads((out / "runs/none-seed2/test.stats.json").read_text())
    assert len(stats["m2"]) == len(stats["exact"]) == len(stats["bleu"]) == 24
    hyps = (out / "runs/none-seed2/test.hyp.txt").read_text().splitlines()
    assert len(hyps) == 24
    # checkpoints are the harness's own scratch and are gone once scored; nothing big stays
    assert not list((tmp_path / "work").glob("*/checkpoints"))
    assert not list(out.rglob("*.pt"))

    tables = (out / "tables.md").read_text()
    assert "| none (cap) | none | 2 | 2/2 |" in tables and "| tlm (both) (cap) | tlm-both-0.1 | 2 | 2/2 |" in tables
    # the bar of a model that only copies its input: F0.5 0 (nothing proposed), its exact match and BLEU
    baseline = json.loads((out / "baseline.json").read_text())
    assert baseline["m2"] == 0.0 and baseline["m2_precision"] == 1.0 and baseline["m2_recall"] == 0.0
    assert "| source copy (no model) | - | - | - | - | 1.000 / 0.000 | 0.0000 |" in tables
    assert "tlm (both) vs none (cap)" in tables and "Holm p" in tables and "In plain words" in tables
    assert (out / "valid_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "test_scores.png").read_bytes()[:4] == b"\x89PNG"
    assert "| none (cap) |" in first.stdout and "runs" in first.stderr  # tables printed, progress bar shown

    # resume: nothing is trained or scored again, the tables are the same
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/result.json")}
    second = harness(task, out)
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/*/result.json")} == stamps
    assert (out / "tables.md").read_text() == tables and "| none (cap) |" in second.stdout

    # continuing with other settings would mix incomparable runs: refused before any work
    changed = harness(task, out, "--patience", "5", check=False)
    assert changed.returncode == 2 and "other settings (config)" in changed.stderr


def test_failed_run_names_its_log_and_leaves_no_result(task, tmp_path):
    out = tmp_path / "study"
    proc = run([PY, SCRIPT, task / "bin", "--out", out, "--work", tmp_path / "work", "--test-ref", task / "raw/test.tgt",
                "--methods", "none", "--test-seeds", "2", "--ablation-seeds", "--", "--arch", "no_such_arch"],
               check=False)
    assert proc.returncode == 2
    assert "training none-seed2 failed" in proc.stderr and "train.stdout.log" in proc.stderr
    assert not (out / "runs/none-seed2/result.json").exists()


def test_flags_owned_by_the_harness_are_refused(task, tmp_path):
    bad = run([PY, SCRIPT, task / "bin", "--out", tmp_path / "other", "--test-ref", task / "raw/test.tgt",
               "--", *MODEL, "--max-update", "5"], check=False)
    assert bad.returncode == 2 and "--max-update is set by the harness" in bad.stderr
    assert not (tmp_path / "other").exists()


def test_cgec_post_processing_maps_data_bin_tokens_to_the_gold_tokenization(tmp_path):
    """Study B scores `--post cgec` text against char-level gold: fed the data-bin's own target and
    source tokens, it must give back the reference lines and the gold M2 sources exactly."""
    from preprocess.cgec import prep
    from tlm_fairseq.study.harness import cgec_post
    from tlm_fairseq.study.metrics import Gold

    sample = ROOT / "tests" / "data" / "cgec"
    gold_m2 = sample / "nlpcc18_test_sample.char.m2"
    assert prep.main(["--train-mucgec", str(sample / "mucgec_dev_sample.txt"), "--valid-size", "5",
                      "--test-m2", str(gold_m2), "--workers", "1", "--out", str(tmp_path / "prep")]) == 0
    text = tmp_path / "prep" / "text"
    post = cgec_post(tmp_path / "prep" / "data-bin")
    targets = [line.split() for line in (text / "test.tgt").read_text(encoding="utf-8").splitlines()]
    sources = [line.split() for line in (text / "test.src").read_text(encoding="utf-8").splitlines()]
    gold = Gold(str(gold_m2), str(text / "test.tgt"))
    assert post("test", targets) == [" ".join(t) for t in targets]
    assert post("test", sources) == gold.sources
    stats, _ = gold.sentence_stats(post("test", sources))
    assert sum(row[1] for row in stats["m2"]) == 0  # the copy proposes nothing
