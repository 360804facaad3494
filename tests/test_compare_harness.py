"""scripts/compare_regularizers.py: grid runs, resumability, CSV, table and plot."""
import csv
import subprocess
import sys

from conftest import ROOT, TINY_MODEL_ARGS

SCRIPT = ROOT / "scripts" / "compare_regularizers.py"
TRAIN = ["--arch", "tlm_transformer", *TINY_MODEL_ARGS, "--optimizer", "adam", "--lr", "1e-3",
         "--max-tokens", "1000", "--max-update", "6", "--cpu"]


def run(data_bin, out, *extra):
    cmd = [sys.executable, SCRIPT, data_bin, "--out", out, "--seeds", "1", "2", "--configs", "none", "tlm-both",
           *extra, "--", *TRAIN]
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_grid_reports_and_resume(reverse_data_bin, tmp_path):
    out = tmp_path / "cmp"
    first = run(reverse_data_bin, out, "--test-cmd", "test -f {checkpoint} && echo score 0.25", "--test-name", "score")
    rows = list(csv.DictReader(open(out / "runs.csv")))
    assert [(r["config"], r["seed"]) for r in rows] == [("none", "1"), ("none", "2"), ("tlm-both", "1"), ("tlm-both", "2")]
    assert all(float(r["best_valid_loss"]) > 0 and r["score"] == "0.2500" for r in rows)
    table = (out / "table.md").read_text()
    assert "| tlm-both | 2 |" in table and "±" in table and "score" in table
    assert (out / "valid_loss.png").read_bytes()[:4] == b"\x89PNG"
    assert "| none | 2 |" in first.stdout

    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/result.json")}
    second = run(reverse_data_bin, out, "--test-cmd", "false")  # a rerun must not train or test again
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/result.json")} == stamps
    assert "| none | 2 |" in second.stdout


def test_failed_run_names_its_log(reverse_data_bin, tmp_path):
    cmd = [sys.executable, SCRIPT, reverse_data_bin, "--out", tmp_path, "--seeds", "1", "--configs", "none",
           "--", "--arch", "no_such_arch", "--cpu"]
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    assert result.returncode != 0
    assert "none seed 1 failed" in result.stderr and "stdout.log" in result.stderr
    assert not (tmp_path / "none-seed1" / "result.json").exists()
