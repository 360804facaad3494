#!/usr/bin/env python
"""The whole system on data embedded in the repository, in a few minutes on a 2-core CPU.

CGEC (the embedded NLPCC 2018 / MuCGEC sample) and Rotowire (generated games in the original
schema): preprocessing and binarization, a short TLM training run, batch generation with
fairseq, M2 and BLEU scoring, ONNX export, onnxruntime generation with a parity check against
fairseq, and one summary table. Any failing step stops the demo with its command and log.

    make demo                  # or: python scripts/demo.py [--work DIR]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

from tlm_fairseq.files import write_text_atomic
from tlm_fairseq.generation_output import GenerationError, best_hypotheses
from tlm_fairseq.scoring.m2 import read_m2

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
CGEC_SAMPLE = ROOT / "tests" / "data" / "cgec"
TINY = ["--encoder-layers", "2", "--decoder-layers", "2", "--encoder-embed-dim", "128", "--decoder-embed-dim", "128",
        "--encoder-ffn-embed-dim", "256", "--decoder-ffn-embed-dim", "256",
        "--encoder-attention-heads", "4", "--decoder-attention-heads", "4"]
# Validate and save once, when training stops (tiny epochs would otherwise validate every few steps).
END_ONLY = ["--validate-interval", "100000", "--save-interval", "100000"]
MARKER = ".tlm-demo"  # marks --work as the demo's own folder, which the next run may delete
DEMO_PREFIXES = ("cgec", "rotowire", "logs", "summary.json", MARKER)


def is_previous_demo(work: Path) -> bool:
    """Whether ``work`` is a folder this script made (marked, or holding only what it writes)."""
    if work.is_symlink() or not work.is_dir():
        return False
    if (work / MARKER).is_file():
        return True
    names = [p.name for p in work.iterdir()]  # runs from before the marker existed
    return (work / "logs").is_dir() and all(n.startswith(DEMO_PREFIXES) for n in names)


class Step:
    """Runs commands, logs them under WORK/logs, and stops the demo loudly on the first failure."""

    def __init__(self, work: Path):
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.timings: Dict[str, float] = {}
        # PYTHON: the shell recipes (train_cgec.sh) run fairseq with this interpreter, the venv's.
        self.env = {**os.environ, "PYTHON": PY, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
                    "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}

    def __call__(self, name: str, cmd: List[str], stdin: Optional[str] = None) -> str:
        print(f"[demo] {name} ...", flush=True)
        log = self.logs / f"{re.sub(r'[^a-z0-9]+', '_', name.lower())}.log"
        start = time.perf_counter()
        result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=self.env, cwd=ROOT,
                                input=stdin)
        elapsed = time.perf_counter() - start
        self.timings[name] = elapsed
        write_text_atomic(log, f"$ {' '.join(map(str, cmd))}\n\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}")
        if result.returncode != 0:
            tail = "\n".join((result.stderr or result.stdout).splitlines()[-25:])
            sys.exit(f"[demo] FAILED: {name} (exit {result.returncode}) after {elapsed:.0f} s\n"
                     f"command: {' '.join(map(str, cmd))}\nlog: {log}\n{tail}")
        print(f"[demo] {name}: done in {elapsed:.0f} s", flush=True)
        return result.stdout


def metric(pattern: str, text: str, what: str) -> float:
    match = re.search(pattern, text, re.MULTILINE)
    if not match:
        sys.exit(f"[demo] FAILED: could not find {what} in the output:\n{text[-2000:]}")
    return float(match.group(1))


def cgec(step: Step, work: Path, updates: int) -> Dict[str, object]:
    data = work / "cgec"
    step("CGEC preprocess + binarize", [
        PY, "-m", "preprocess.cgec", "--train-nlpcc", CGEC_SAMPLE / "nlpcc2018_format_sample.txt",
        "--train-mucgec", CGEC_SAMPLE / "mucgec_dev_sample.txt", "--keep-correct", "--valid-size", "40",
        "--test-m2", CGEC_SAMPLE / "nlpcc18_test_sample.char.m2", "--bpe", "char", "--workers", "2",
        "--out", data, "--force"])
    ckpt = work / "cgec-ckpt"
    step("CGEC train (TLM)", [
        "bash", ROOT / "scripts" / "train_cgec.sh", data / "data-bin", ckpt, "--reg", "tlm", *TINY,
        "--max-update", str(updates), "--max-epoch", "1000", "--max-tokens", "2048", "--warmup-updates", "50",
        "--lr", "2e-3", "--dropout", "0.1", *END_ONLY, "--cpu", "--no-progress-bar"])
    out = step("CGEC generate + M2", [
        PY, ROOT / "scripts" / "eval_cgec.py", "--data-bin", data / "data-bin", "--checkpoint", ckpt / "checkpoint_best.pt",
        "--split", "test", "--gold-m2", CGEC_SAMPLE / "nlpcc18_test_sample.char.m2", "--output", work / "cgec-hyp.txt",
        "--beam", "5", "--cpu", "--m2-oversized", "unmerged"])
    return {"data": data / "data-bin", "checkpoint": ckpt / "checkpoint_best.pt",
            "P": metric(r"^Precision\s*:\s*([0-9.]+)", out, "precision"),
            "R": metric(r"^Recall\s*:\s*([0-9.]+)", out, "recall"),
            "F0.5": metric(r"^F_0.5\s*:\s*([0-9.]+)", out, "F0.5"), "hyps": work / "cgec-hyp.txt"}


def rotowire(step: Step, work: Path, updates: int) -> Dict[str, object]:
    games = work / "rotowire-json"
    step("Rotowire generate games", [PY, "-m", "preprocess.rotowire.synth", "--out-dir", games,
                                     "--train", "200", "--valid", "10", "--test", "20", "--seed", "0", "--no-progress"])
    data = work / "rotowire"
    step("Rotowire records + binarize", [PY, "-m", "preprocess.rotowire", "--input-dir", games, "--dest", data,
                                         "--max-records", "80", "--no-progress"])
    ckpt = work / "rotowire-ckpt"
    step("Rotowire train (TLM)", [
        PY, "-m", "fairseq_cli.train", data, "--user-dir", ROOT / "tlm_fairseq", "--task", "data_to_text",
        "--arch", "tlm_transformer_rotowire", *TINY, "--tlm-rate", "0.1", "--tlm-mode", "both", "--dropout", "0.1",
        "--optimizer", "adam", "--lr", "2e-3", "--lr-scheduler", "inverse_sqrt", "--warmup-updates", "50",
        "--criterion", "label_smoothed_cross_entropy", "--label-smoothing", "0.1", "--max-tokens", "6000",
        "--max-update", str(updates), "--max-epoch", "1000", "--save-dir", ckpt, "--no-epoch-checkpoints",
        *END_ONLY, "--cpu",
        "--no-progress-bar", "--log-interval", "50"])
    out = step("Rotowire generate + BLEU", [
        PY, ROOT / "scripts" / "eval_rotowire.py", "--data", data, "--split", "test",
        "--path", ckpt / "checkpoint_best.pt", "--beam", "1", "--max-len-b", "400",
        "--output", work / "rotowire-hyp.txt", "--quiet", "--", "--cpu"])
    return {"data": data, "checkpoint": ckpt / "checkpoint_best.pt", "games": games,
            "BLEU": parse_bleu(out), "hyps": work / "rotowire-hyp.txt"}


def parse_bleu(text: str) -> float:
    """The tokenized (--tokenize none) BLEU of scripts/eval_rotowire.py."""
    return metric(r"^BLEU \(tokenized text, --tokenize none\) = ([0-9.]+)", text, "the tokenized BLEU line")


def fairseq_greedy(step: Step, name: str, data: Path, checkpoint: Path, task_args: List[str],
                   expected: int) -> Dict[int, str]:
    """fairseq-generate --beam 1 on the binarized test split: {sentence id: hypothesis tokens}."""
    out = step(name, [PY, "-m", "fairseq_cli.generate", data, "--user-dir", ROOT / "tlm_fairseq", *task_args,
                      "--path", checkpoint, "--gen-subset", "test", "--beam", "1", "--batch-size", "16",
                      "--required-batch-size-multiple", "1", "--max-len-b", "400", "--cpu"])
    try:
        return {h.index: h.text for h in best_hypotheses(out.splitlines(), expected, f"{name} output")}
    except GenerationError as exc:
        sys.exit(f"[demo] FAILED: {name}: {exc}")


def export_and_check(step: Step, work: Path, name: str, task: Dict[str, object], inputs: Path,
                     export_args: List[str], task_args: List[str]) -> Dict[str, object]:
    """Export to ONNX, generate with onnxruntime, and compare greedy output with fairseq's."""
    model_dir = work / f"{name.lower()}-onnx"
    step(f"{name} export to ONNX", [PY, "-m", "export.onnx_export", "--checkpoint", task["checkpoint"],
                                    "--data", task["data"], "--out", model_dir, *export_args])
    stats = work / f"{name.lower()}-ort-stats.json"
    out = step(f"{name} onnxruntime generate", [
        PY, "-m", "export.generate", "--model-dir", model_dir, "--input", inputs, "--output-format", "jsonl",
        "--beam", "1", "--max-len-b", "400", "--batch-size", "16", "--threads", "1", "--stats-json", stats])
    ours = {r["index"]: r["hypotheses"][0]["tokens"] for r in map(json.loads, out.splitlines())}
    if sorted(ours) != list(range(len(ours))):
        sys.exit(f"[demo] FAILED: {name}: onnxruntime output indices are not 0..{len(ours) - 1}")
    reference = fairseq_greedy(step, f"{name} fairseq greedy (parity reference)", task["data"], task["checkpoint"],
                               task_args, len(ours))
    same = sum(reference[i] == ours[i] for i in reference)
    if same != len(reference):
        first = next(i for i in reference if reference[i] != ours[i])
        sys.exit(f"[demo] FAILED: {name}: greedy output differs from fairseq on {len(reference) - same} of "
                 f"{len(reference)} inputs; first: #{first}\n fairseq: {reference[first]}\n ours:    {ours[first]}")
    rate = json.loads(stats.read_text())
    return {"model_dir": model_dir, "parity": f"{same}/{len(reference)}",
            "tokens_per_s": rate["tokens_per_second"], "provider": rate["provider"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "work" / "demo", help="folder for every artefact")
    parser.add_argument("--cgec-updates", type=int, default=300)
    parser.add_argument("--rotowire-updates", type=int, default=200)
    args = parser.parse_args()
    if args.work.exists() or args.work.is_symlink():
        if not is_previous_demo(args.work):
            sys.exit(f"[demo] {args.work} exists and is not a previous demo run; refusing to delete it")
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True)
    write_text_atomic(args.work / MARKER, "written by scripts/demo.py; deleted with this folder by the next run\n")
    step = Step(args.work)
    start = time.perf_counter()
    c = cgec(step, args.work, args.cgec_updates)
    r = rotowire(step, args.work, args.rotowire_updates)
    cgec_raw = args.work / "cgec-test.raw"
    write_text_atomic(cgec_raw, "".join("".join(g.tokens) + "\n" for g in read_m2(CGEC_SAMPLE / "nlpcc18_test_sample.char.m2")))
    c.update(export_and_check(step, args.work, "CGEC", c, cgec_raw, [], []))
    r.update(export_and_check(step, args.work, "Rotowire", r, Path(r["games"]) / "test.json", ["--max-records", "80"],
                              ["--task", "data_to_text"]))
    rows = [
        ("CGEC: char-level M2 on 60 NLPCC 2018 test sentences",
         f"P {c['P']:.4f}  R {c['R']:.4f}  F0.5 {c['F0.5']:.4f}", c["hyps"]),
        ("Rotowire: BLEU (tokenized) on 20 generated games", f"BLEU {r['BLEU']:.2f}", r["hyps"]),
    ]
    for name, t in (("CGEC", c), ("Rotowire", r)):
        rows.append((f"{name}: onnxruntime greedy = fairseq greedy",
                     f"{t['parity']} identical, {t['tokens_per_s']:.0f} tok/s on {t['provider']}", t["model_dir"]))
    print("\n" + "=" * 130)
    print(f"{'':<54} {'result':<52} artefacts")
    for task, score, path in rows:
        print(f"{task:<54} {score:<52} {path}")
    print("-" * 130)
    for name, seconds in step.timings.items():
        print(f"  {name:<40} {seconds:7.1f} s")
    print(f"total {time.perf_counter() - start:.0f} s; logs in {step.logs}")
    print("=" * 130)
    write_text_atomic(args.work / "summary.json", json.dumps(
        {"cgec": {k: v for k, v in c.items() if isinstance(v, (float, int, str))},
         "rotowire": {k: v for k, v in r.items() if isinstance(v, (float, int, str))},
         "timings_s": step.timings}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
