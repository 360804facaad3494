"""tlm_fairseq.study.report on hand-made results: cap-hit flags, significance verdicts, CSV, plots."""
import csv
import json

import numpy as np

from tlm_fairseq.study.protocol import Protocol, Run, Setting
from tlm_fairseq.study.report import Study, load_results, write_all

N = 200


def fake_run(runs_dir, run, accuracy, cap_hit, rng):
    hits = (rng.random(N) < accuracy).astype(int)
    stats = {"exact": [[int(h), 1] for h in hits]}
    d = runs_dir / run.id
    d.mkdir(parents=True)
    (d / "test.stats.json").write_text(json.dumps(stats))
    last = 4000 if cap_hit else 1300
    (d / "result.json").write_text(json.dumps({
        "run": run.id, "setting": run.setting.name, "method": run.setting.method, "mode": "", "seed": run.seed,
        "rate": run.setting.rate, "best_valid_loss": 2.0 - accuracy, "best_update": last - 400 * (not cap_hit),
        "last_update": last, "cap_hit": cap_hit, "early_stopped": not cap_hit, "train_seconds": 1.0,
        "curve": [[100, 5.0], [200, 3.0 - accuracy], [300, 2.0 - accuracy]],
        "scores": {"test": {"exact": float(hits.mean()), "m2_unmerged": 0}}}))


def test_tables_flag_cap_hits_and_state_significance(tmp_path):
    rng = np.random.default_rng(1)
    protocol = Protocol(methods=("none", "tlm", "drophead"), fixed=(("tlm", 0.1), ("drophead", 0.1)),
                        test_seeds=(2, 3, 4), ablation_seeds=())
    runs_dir = tmp_path / "runs"
    for seed in (2, 3, 4):
        fake_run(runs_dir, Run(Setting("none"), seed), 0.40, False, rng)
        fake_run(runs_dir, Run(Setting("tlm", 0.1), seed), 0.80 + 0.01 * seed, seed == 3, rng)
        fake_run(runs_dir, Run(Setting("drophead", 0.1), seed), 0.40, False, rng)
    study = Study(protocol, load_results(runs_dir), runs_dir, resamples=300)
    write_all(study, tmp_path, "Fake study")
    tables = (tmp_path / "tables.md").read_text()
    assert "| tlm (both) (cap) | tlm-both-0.1 | 3 | 1/3 |" in tables
    assert "| none | none | 3 | 0/3 |" in tables and "| drophead | drophead-0.1 | 3 | 0/3 |" in tables
    lines = {line.split(" | ")[0]: line for line in tables.splitlines() if " vs " in line and line.startswith("|")}
    assert "significant (both tests)" in lines["| tlm (both) vs none (cap)"]
    assert "not significant" in lines["| drophead vs none"]
    assert "significant (both tests)" in lines["| drophead vs tlm (both) (cap)"]
    assert "- tlm (both) vs none: exact match higher by" in tables and "1 of the runs hit the update cap" in tables
    rows = list(csv.DictReader(open(tmp_path / "runs.csv")))
    assert len(rows) == 9 and {r["cap_hit"] for r in rows if r["run"] == "tlm-both-0.1-seed3"} == {"yes"}
    assert (tmp_path / "test_scores.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "valid_curves.png").read_bytes()[:4] == b"\x89PNG"
