"""tokens/s of ``tlm-generate`` (onnxruntime) vs ``fairseq-generate`` (torch), side by side on CPU.

Both run as the users run them (separate processes) on the same checkpoint, inputs, beam, batch
size and thread count (fairseq: ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``; onnxruntime: intra-op
threads, one inter-op thread). The rate is each tool's own count of generated tokens (best
hypothesis, ``</s>`` included) over its own generation time (fairseq-generate's "Translated ...
tokens/s" line; tlm-generate's ``--stats-json``), so model loading and imports are excluded from
both; whole-process wall times are reported beside them. The two outputs are compared too.

    python benchmarks/bench_generate.py --toy /tmp/bench          # builds a toy model first
    python benchmarks/bench_generate.py --checkpoint CKPT --data DATA_BIN --input test.raw \\
        --model-dir EXPORT_DIR                                     # your own (test split = input)
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tlm_fairseq.files import atomic_write, iter_lines
from tlm_fairseq.generation_output import best_hypotheses

ROOT = Path(__file__).resolve().parents[1]
CHARS = "我们你他她是的了在有不这个人来去学校老师朋友家天气很好喜欢吃饭看书写字上下大小中国年月日时"
TOY_MODEL = [
    "--arch", "tlm_transformer", "--encoder-layers", "2", "--decoder-layers", "2",
    "--encoder-embed-dim", "128", "--decoder-embed-dim", "128", "--encoder-ffn-embed-dim", "512",
    "--decoder-ffn-embed-dim", "512", "--encoder-attention-heads", "4", "--decoder-attention-heads", "4",
    "--share-all-embeddings",
]
FAIRSEQ_RATE = re.compile(r"Translated ([\d,]+) sentences \(([\d,]+) tokens\) in ([\d.]+)s")


@dataclass
class Run:
    name: str
    sentences: int
    tokens: int
    seconds: float
    wall: float
    outputs: dict[int, str]

    @property
    def rate(self) -> float:
        return self.tokens / self.seconds


def sh(args: list, threads: int, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([str(a) for a in args], env=env, capture_output=True, text=True, cwd=ROOT, **kwargs)
    if proc.returncode != 0:
        sys.exit(f"command failed: {' '.join(map(str, args[:4]))} ...\n{proc.stderr[-4000:]}")
    return proc


def build_toy(base: Path, updates: int) -> tuple[Path, Path, Path, Path]:
    """A character 'correction' corpus, a trained toy tlm_transformer and its export."""
    rng = random.Random(0)
    raw = base / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", 4000), ("valid", 20), ("test", 400)):
        with atomic_write(raw / f"{split}.src") as src, atomic_write(raw / f"{split}.tgt") as tgt:
            for _ in range(count):
                target = [rng.choice(CHARS) for _ in range(rng.randint(8, 30))]
                source = list(target)
                i = rng.randrange(len(source))
                source.insert(i, source[i])
                src.write(" ".join(source) + "\n")
                tgt.write(" ".join(target) + "\n")
    data, ckpt, model_dir = base / "bin", base / "ckpt", base / "onnx"
    py = sys.executable
    if not data.exists():
        sh([py, "-m", "fairseq_cli.preprocess", "--source-lang", "src", "--target-lang", "tgt", "--trainpref",
            raw / "train", "--validpref", raw / "valid", "--testpref", raw / "test", "--destdir", data,
            "--joined-dictionary", "--workers", "1"], 2)
    if not (ckpt / "checkpoint_last.pt").exists():
        print(f"training the toy model ({updates} updates)...", file=sys.stderr)
        sh([py, "-m", "fairseq_cli.train", data, *TOY_MODEL, "--user-dir", ROOT / "tlm_fairseq", "--optimizer", "adam",
            "--lr", "3e-3", "--lr-scheduler", "inverse_sqrt", "--warmup-updates", "50", "--max-tokens", "4000",
            "--max-update", updates, "--cpu", "--num-workers", "0", "--seed", "1", "--disable-validation",
            "--no-epoch-checkpoints", "--save-dir", ckpt, "--criterion", "label_smoothed_cross_entropy",
            "--label-smoothing", "0.1", "--dropout", "0.1"], 2)
    if not model_dir.exists():
        sh([py, "-m", "export.onnx_export", "--checkpoint", ckpt / "checkpoint_last.pt", "--data", data,
            "--out", model_dir], 2)
    test_raw = base / "test.raw"
    with atomic_write(test_raw) as out:
        out.writelines(line.replace(" ", "") + "\n" for _, line in iter_lines(raw / "test.src"))
    return ckpt / "checkpoint_last.pt", data, model_dir, test_raw


def run_fairseq(ckpt: Path, data: Path, beam: int, batch: int, threads: int, extra: list[str]) -> Run:
    start = time.perf_counter()
    proc = sh([sys.executable, "-m", "fairseq_cli.generate", data, "--path", ckpt, "--user-dir", ROOT / "tlm_fairseq",
               "--beam", beam, "--batch-size", batch, "--required-batch-size-multiple", "1", "--cpu",
               "--gen-subset", "test", *extra], threads)
    wall = time.perf_counter() - start
    match = FAIRSEQ_RATE.search(proc.stderr + proc.stdout)
    if not match:
        sys.exit("could not find fairseq-generate's 'Translated ...' line")
    sentences = int(match[1].replace(",", ""))
    best = best_hypotheses(proc.stdout.splitlines(), sentences, "fairseq-generate")
    return Run("fairseq-generate", sentences, int(match[2].replace(",", "")), float(match[3]), wall,
               {hyp.index: hyp.text for hyp in best})


def run_tlm(model_dir: Path, inputs: Path, beam: int, batch: int, threads: int, extra: list[str]) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        stats, out = Path(tmp) / "stats.json", Path(tmp) / "out.jsonl"
        start = time.perf_counter()
        sh([sys.executable, "-m", "export.generate", "--model-dir", model_dir, "--input", inputs, "--beam", beam,
            "--batch-size", batch, "--threads", threads, "--device", "cpu", "--output", out, "--output-format",
            "jsonl", "--stats-json", stats, *extra], threads)
        wall = time.perf_counter() - start
        s = json.loads(stats.read_text())
        outputs = {r["index"]: r["hypotheses"][0]["tokens"] for r in map(json.loads, out.read_text().splitlines())}
    return Run("tlm-generate", s["sentences"], s["tokens"], s["seconds"], wall, outputs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--toy", type=Path, help="build (or reuse) a toy model in this folder")
    parser.add_argument("--toy-updates", type=int, default=400)
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--data", type=Path, help="data-bin; its test split must be --input")
    parser.add_argument("--model-dir", type=Path, help="tlm-export output of --checkpoint")
    parser.add_argument("--input", type=Path, help="raw inputs, the test split of --data")
    parser.add_argument("--beam", type=int, nargs="+", default=[5, 1])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3, help="runs per setting; the fastest counts")
    parser.add_argument("--min-speedup", type=float, default=1.5, help="exit 1 if tlm-generate is slower than this")
    parser.add_argument("--gen-args", default="", help="search options for both tools, e.g. '--max-len-b 50 --lenpen 0.8'")
    parser.add_argument("--task-args", default="", help="fairseq-generate only, e.g. '--task data_to_text'")
    args = parser.parse_args(argv)
    if args.toy:
        ckpt, data, model_dir, inputs = build_toy(args.toy, args.toy_updates)
    elif args.checkpoint and args.data and args.model_dir and args.input:
        ckpt, data, model_dir, inputs = args.checkpoint, args.data, args.model_dir, args.input
    else:
        parser.error("give --toy DIR, or --checkpoint, --data, --model-dir and --input")
    gen_args, task_args = shlex.split(args.gen_args), shlex.split(args.task_args)
    print(f"checkpoint {ckpt}\ninputs {inputs}; batch size {args.batch_size}; {' '.join(gen_args)}; "
          f"best of {args.repeat} runs; CPU")
    header = f"{'beam':>4} {'threads':>7} | {'fairseq tok/s':>13} {'tlm tok/s':>10} {'speedup':>7} | " \
             f"{'fairseq wall':>12} {'tlm wall':>8} | {'same output':>11}"
    print(header)
    print("-" * len(header))
    worst = math.inf
    for beam in args.beam:
        for threads in args.threads:
            fs = max((run_fairseq(ckpt, data, beam, args.batch_size, threads, gen_args + task_args)
                      for _ in range(args.repeat)), key=lambda r: r.rate)
            ours = max((run_tlm(model_dir, inputs, beam, args.batch_size, threads, gen_args)
                        for _ in range(args.repeat)), key=lambda r: r.rate)
            if fs.sentences != ours.sentences:
                sys.exit(f"fairseq saw {fs.sentences} inputs, tlm-generate {ours.sentences}: --input is not the test split")
            same = sum(fs.outputs.get(i) == ours.outputs.get(i) for i in ours.outputs) / len(ours.outputs)
            speedup = ours.rate / fs.rate
            worst = min(worst, speedup)
            print(f"{beam:>4} {threads:>7} | {fs.rate:>13.0f} {ours.rate:>10.0f} {speedup:>6.2f}x | "
                  f"{fs.wall:>11.1f}s {ours.wall:>7.1f}s | {100 * same:>10.1f}%", flush=True)
    print(f"slowest speedup {worst:.2f}x (required {args.min_speedup}x)")
    return 0 if worst >= args.min_speedup else 1


if __name__ == "__main__":
    sys.exit(main())
