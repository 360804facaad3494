"""Generation side by side on CPU: fairseq-generate, tlm-generate (float32, int8) and CTranslate2 (float32, int8).

Every run is its own process, as users run the tools, on the same checkpoint, inputs, beam, batch
size (32 sentences) and thread count (fairseq: ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``; onnxruntime
and CTranslate2: intra-op threads, one inter-op thread). The systems take turns within each repeat
(interleaved), so a load change on the machine hits all of them alike, and medians are reported:

* tokens/s: each tool's own count of generated tokens (best hypothesis, ``</s>`` included) over its
  own generation time (fairseq-generate's "Translated ..." line, tlm-generate's ``--stats-json``,
  ``translate_batch`` for CTranslate2), so loading is excluded;
* start-up: the whole process (interpreter, imports, model load, integrity checks) on an empty input;
* peak RSS: the maximum resident set of the generation process (``wait4``);
* agreement: identical best outputs against fairseq-generate with the same beam, and int8 against
  the same tool's float32 greedy outputs.

CTranslate2 (``--peer ctranslate2``) gets the same checkpoint through ``tlm-strip-checkpoint`` and
``ct2-fairseq-converter --user_dir tlm_fairseq`` (the safe loader, no ``--unsafe_deserialization``),
converted to float32 and to int8. ``--toy DIR`` first builds a model whose outputs are realistic, on
a copy-like correction task over 1000 CJK characters (drop a duplicated character): a transformer-base
model does not get past the unigram distribution within ten minutes of one shared CPU core, so a
2+2-layer 128-wide model is trained (about three minutes), grown into a 6+6-layer 512-wide one that
computes the same function (``grow_model``: Net2Net widening, identity layers, a little noise) and
trained 20 more updates. The outputs' realism is reported (exact matches, runs to the length limit).

    python benchmarks/bench_generate.py --toy /tmp/tlm-bench --size base --peer ctranslate2
    python benchmarks/bench_generate.py --checkpoint CKPT --data DATA_BIN --input test.raw --tokenized test.src \\
        --model-dir EXPORT_DIR [--peer ctranslate2]          # your own model (the test split = the input;
                                                             # CTranslate2 conversions go to EXPORT_DIR-bench/)
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tlm_fairseq.files import atomic_dir, atomic_write, iter_lines, write_text_atomic
from tlm_fairseq.generation_output import best_hypotheses

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"embed_dim": 128, "ffn_dim": 512, "heads": 4, "layers": 2}
BASE = {"embed_dim": 512, "ffn_dim": 2048, "heads": 8, "layers": 6}  # transformer-base
# Pre-norm, learned positions and unscaled embeddings: what growing the small model needs (grow_model).
TRAINING = ["--arch", "tlm_transformer", "--share-all-embeddings", "--encoder-normalize-before",
            "--decoder-normalize-before", "--encoder-learned-pos", "--decoder-learned-pos", "--no-scale-embedding",
            "--optimizer", "adam", "--adam-betas", "(0.9, 0.98)", "--criterion", "label_smoothed_cross_entropy",
            "--label-smoothing", "0.1", "--cpu", "--num-workers", "0", "--seed", "1", "--disable-validation",
            "--no-epoch-checkpoints", "--log-format", "simple", "--log-interval", "50"]
FAIRSEQ_RATE = re.compile(r"Translated ([\d,]+) sentences \(([\d,]+) tokens\) in ([\d.]+)s")
MAX_LEN_B = 200  # fairseq's default --max-len-b, used by every system
SYSTEMS = ("fairseq", "tlm-float32", "tlm-int8", "ct2-float32", "ct2-int8")
LABELS = {"fairseq": "fairseq-generate", "tlm-float32": "tlm-generate float32", "tlm-int8": "tlm-generate int8",
          "ct2-float32": "CTranslate2 float32", "ct2-int8": "CTranslate2 int8"}


@dataclass
class Run:
    tokens: int
    seconds: float
    cpu_seconds: float | None  # generation CPU time (fairseq-generate does not report one)
    wall: float
    rss_mb: float
    cpu: float  # CPU time of the whole process
    outputs: list[str] = field(default_factory=list)  # best hypothesis per input, space-separated symbols

    @property
    def rate(self) -> float:
        return self.tokens / self.seconds

    @property
    def cpu_rate(self) -> float | None:
        return self.tokens / self.cpu_seconds if self.cpu_seconds else None


@dataclass
class Model:
    checkpoint: Path
    data: Path
    model_dir: Path
    raw: Path  # raw sentences (tlm-generate's input)
    tokenized: Path  # the same, space-separated symbols (CTranslate2's input)
    references: Path | None = None
    ct2: dict[str, Path] = field(default_factory=dict)  # precision -> converted model


def env_for(threads: int) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}


def measured(args: Sequence[object], threads: int) -> tuple[str, str, float, float, float]:
    """Run a command; (stdout, stderr, wall s, peak RSS MB, CPU s). Exits with its log if it fails."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([str(a) for a in args], stdout=out, stderr=err, env=env_for(threads), cwd=ROOT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {shlex.join(str(a) for a in args)}\n{stderr[-4000:]}")
    return stdout, stderr, wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def sh(args: Sequence[object], threads: int = 1) -> str:
    return measured(args, threads)[0]


# -- the toy model ------------------------------------------------------------------------------

def sizes(dims: dict[str, int]) -> list[str]:
    return [a for side in ("encoder", "decoder") for a in (
        f"--{side}-layers", str(dims["layers"]), f"--{side}-embed-dim", str(dims["embed_dim"]),
        f"--{side}-ffn-embed-dim", str(dims["ffn_dim"]), f"--{side}-attention-heads", str(dims["heads"]))]


def write_corpus(raw: Path, vocab: int, test_size: int, seed: int = 0) -> None:
    """A copy-like correction task: targets are strings of ``vocab`` CJK characters; a source repeats one of them."""
    rng = random.Random(seed)
    chars = [chr(0x4E00 + i) for i in range(vocab)]
    raw.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", 40000), ("valid", 100), ("test", test_size)):
        with atomic_write(raw / f"{split}.src") as src, atomic_write(raw / f"{split}.tgt") as tgt:
            for _ in range(count):
                target = [rng.choice(chars) for _ in range(rng.randint(8, 30))]
                source = list(target)
                i = rng.randrange(len(source))
                source.insert(i, source[i])
                src.write(" ".join(source) + "\n")
                tgt.write(" ".join(target) + "\n")


def train(save_dir: Path, args: list[object]) -> None:
    """fairseq-train into ``save_dir``, which appears only once training has finished."""
    with atomic_dir(save_dir, lambda path: not any(path.iterdir())) as building:
        sh([sys.executable, "-m", "fairseq_cli.train", *args, "--save-dir", building])


def build_toy(base: Path, size: str, updates: int, vocab: int, test_size: int) -> Model:
    """Corpus, fairseq-preprocess, fairseq-train (small; base: grown from it, then trained on), tlm-export.

    Each step is skipped when its output exists, so a rerun reuses the model.
    """
    raw, data = base / "raw", base / "bin"
    py, user_dir = sys.executable, ROOT / "tlm_fairseq"
    if not (raw / "test.tgt").exists():
        write_corpus(raw, vocab, test_size)
    if not data.exists():
        sh([py, "-m", "fairseq_cli.preprocess", "--source-lang", "src", "--target-lang", "tgt", "--trainpref",
            raw / "train", "--validpref", raw / "valid", "--testpref", raw / "test", "--destdir", data,
            "--joined-dictionary", "--workers", "1"])
    from grow_model import grow_checkpoint  # beside this script; needs torch, which only the toy build uses

    small = base / "ckpt-small" / "checkpoint_last.pt"
    if not small.exists():
        print(f"training the small model ({updates} updates, 1 thread)...", file=sys.stderr, flush=True)
        train(small.parent, [data, *TRAINING, *sizes(SMALL), "--user-dir", user_dir, "--lr", "3e-3", "--lr-scheduler",
                             "inverse_sqrt", "--warmup-updates", "50", "--max-tokens", "2000", "--dropout", "0",
                             "--max-update", updates])
    checkpoint = small
    if size == "base":
        checkpoint = base / "ckpt-base" / "checkpoint_last.pt"
        if not checkpoint.exists():
            print("growing it to transformer-base sizes and training 20 more updates...", file=sys.stderr, flush=True)
            grown = base / "grown-base.pt"
            grow_checkpoint(str(small), str(grown), BASE)
            train(checkpoint.parent, [data, *TRAINING, *sizes(BASE), "--user-dir", user_dir, "--lr", "1e-4",
                                      "--lr-scheduler", "fixed", "--max-tokens", "1000", "--dropout", "0.1",
                                      "--max-update", "20", "--restore-file", grown, "--reset-optimizer",
                                      "--reset-dataloader", "--reset-meters", "--reset-lr-scheduler"])
    model_dir = base / f"onnx-{size}"
    stale = model_dir.exists() and "decoder_inplace" not in json.loads((model_dir / "config.json").read_text())["graphs"]["float32"]
    if stale:
        print(f"{model_dir} predates the in-place decoder: exporting again", file=sys.stderr, flush=True)
    if not model_dir.exists() or stale:
        sh([py, "-m", "export.onnx_export", "--checkpoint", checkpoint, "--data", data, "--out", model_dir,
            "--quantize", "int8", "--force"])
    test_raw = base / "test.raw"
    write_text_atomic(test_raw, "".join(line.replace(" ", "") + "\n" for _, line in iter_lines(raw / "test.src")))
    return Model(checkpoint, data, model_dir, test_raw, raw / "test.src", raw / "test.tgt")


def convert_ct2(model: Model, work: Path) -> None:
    """tlm-strip-checkpoint, then ct2-fairseq-converter (float32 and int8) with the safe --user_dir loader."""
    plain = work / "plain.pt"
    py = sys.executable
    if not plain.exists():
        sh([py, "-m", "tlm_fairseq.strip_checkpoint", model.checkpoint, plain])
    for precision in ("float32", "int8"):
        out = work / f"ct2-{precision}"
        if not out.exists():
            sh([py, "-m", "ctranslate2.converters.fairseq", "--model_path", plain, "--data_dir", model.data,
                "--output_dir", out, "--user_dir", ROOT / "tlm_fairseq", "--quantization", precision])
        model.ct2[precision] = out


# -- one run of each system ---------------------------------------------------------------------

def run_fairseq(model: Model, beam: int, batch: int, threads: int) -> Run:
    stdout, stderr, wall, rss, cpu = measured(
        [sys.executable, "-m", "fairseq_cli.generate", model.data, "--path", model.checkpoint, "--user-dir",
         ROOT / "tlm_fairseq", "--beam", beam, "--batch-size", batch, "--required-batch-size-multiple", "1",
         "--max-len-b", MAX_LEN_B, "--cpu", "--gen-subset", "test"], threads)
    match = FAIRSEQ_RATE.search(stderr + stdout)
    if not match:
        sys.exit("could not find fairseq-generate's 'Translated ...' line")
    sentences = int(match[1].replace(",", ""))
    best = best_hypotheses(stdout.splitlines(), sentences, "fairseq-generate")
    return Run(int(match[2].replace(",", "")), float(match[3]), None, wall, rss, cpu, [h.text for h in best])


def run_tlm(model: Model, precision: str, beam: int, batch: int, threads: int, inputs: Path | None = None) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        stats, out = Path(tmp) / "stats.json", Path(tmp) / "out.jsonl"
        _, _, wall, rss, cpu = measured(
            [sys.executable, "-m", "export.generate", "--model-dir", model.model_dir, "--input", inputs or model.raw,
             "--precision", precision, "--beam", beam, "--batch-size", batch, "--threads", threads, "--device", "cpu",
             "--max-len-b", MAX_LEN_B, "--output", out, "--output-format", "jsonl", "--stats-json", stats], threads)
        s = json.loads(stats.read_text())
        records = [json.loads(line) for _, line in iter_lines(out)]
        outputs = [r["hypotheses"][0]["tokens"] if r["hypotheses"] else "" for r in records]
    return Run(s["tokens"], s["seconds"], s["cpu_seconds"], wall, rss, cpu, outputs)


def run_ct2(model: Model, precision: str, beam: int, batch: int, threads: int, inputs: Path | None = None) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "run.json"
        _, _, wall, rss, cpu = measured(
            [sys.executable, ROOT / "benchmarks" / "ct2_generate.py", "--model", model.ct2[precision], "--input",
             inputs or model.tokenized, "--beam", beam, "--threads", threads, "--batch-size", batch,
             "--max-len-b", MAX_LEN_B, "--out", report], threads)
        r = json.loads(report.read_text())
    return Run(r["tokens"], r["seconds"], r["cpu_seconds"], wall, rss, cpu, r["outputs"])


def run_system(system: str, model: Model, beam: int, batch: int, threads: int, empty: Path | None = None) -> Run:
    if system == "fairseq":
        return run_fairseq(model, beam, batch, threads)
    engine, precision = system.split("-")
    runner = run_tlm if engine == "tlm" else run_ct2
    return runner(model, precision, beam, batch, threads, empty)


# -- report -------------------------------------------------------------------------------------

def identical(a: Sequence[str], b: Sequence[str]) -> float:
    return sum(x == y for x, y in zip(a, b)) / max(len(a), 1)


def realism(outputs: Sequence[str], references: Path | None) -> str:
    """Whether the model's outputs look like outputs: exact matches, and how many run to the limit."""
    at_limit = sum(len(o.split()) >= MAX_LEN_B for o in outputs) / len(outputs)
    text = f"{100 * at_limit:.1f}% of greedy outputs run to the length limit ({MAX_LEN_B})"
    if references is not None:
        refs = [line for _, line in iter_lines(references)]
        text += f"; {100 * identical(outputs, refs):.1f}% equal the reference"
        lengths = sum(len(o.split()) for o in outputs) / max(sum(len(r.split()) for r in refs), 1)
        text += f"; output/reference length {lengths:.2f}"
    return text


def report(systems: list[str], runs: dict[tuple[str, int, int], list[Run]], startup: dict[str, list[Run]],
           beams: list[int], threads: list[int], references: Path | None) -> None:
    """The side-by-side table (markdown) and the realism of the outputs."""
    def row(name: str, cells: list[str]) -> None:
        print(f"| {name} | " + " | ".join(cells) + " |")

    def search(beam: int) -> str:
        return "greedy" if beam == 1 else f"beam {beam}"

    def median(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    print()
    row("setting", [LABELS[s] for s in systems])
    print("| --- |" + " --- |" * len(systems))
    for beam in beams:
        for t in threads:
            cells = []
            for s in systems:
                rs = runs[(s, beam, t)]
                cpu = median([r.cpu_rate for r in rs])
                cells.append(f"{median([r.rate for r in rs]):.0f} tok/s" + (f" ({cpu:.0f}/CPU s)" if cpu else ""))
            row(f"{search(beam)}, {t} thread{'s' if t > 1 else ''}", cells)
    row("start-up: process on an empty input, wall (CPU)", [
        f"{median([r.wall for r in startup[s]]):.2f} s ({median([r.cpu for r in startup[s]]):.2f} s)"
        if s in startup else "-" for s in systems])
    for beam in beams:
        row(f"peak RSS, {search(beam)}, {threads[0]} thread", [
            f"{median([r.rss_mb for r in runs[(s, beam, threads[0])]]):.0f} MB" for s in systems])
    first = {key: rs[0].outputs for key, rs in runs.items()}
    if "fairseq" in systems:
        for beam in beams:
            reference = first[("fairseq", beam, threads[0])]
            row(f"identical to fairseq-generate, {search(beam)}",
                [f"{100 * identical(first[(s, beam, threads[0])], reference):.1f}%" for s in systems])
    if 1 in beams:
        row("int8 greedy identical to the same tool's float32", [
            f"{100 * identical(first[(s, 1, threads[0])], first[(s.replace('int8', 'float32'), 1, threads[0])]):.1f}%"
            if s.endswith("int8") and (s.replace("int8", "float32"), 1, threads[0]) in first else "-" for s in systems])
        greedy = next((first[(s, 1, threads[0])] for s in ("fairseq", "tlm-float32") if s in systems), None)
        if greedy is not None:
            print(f"\nrealism of the model's greedy outputs: {realism(greedy, references)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--toy", type=Path, help="build (or reuse) a trained toy model in this folder")
    parser.add_argument("--size", choices=("small", "base"), default="base",
                        help="toy model: 2+2 layers 128 wide, or 6+6 layers 512 wide (transformer-base)")
    parser.add_argument("--toy-updates", type=int, default=1200, help="updates of the small model")
    parser.add_argument("--toy-vocab", type=int, default=1000, help="characters of the toy corpus")
    parser.add_argument("--toy-test", type=int, default=100, help="test sentences of the toy corpus")
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--data", type=Path, help="data-bin; its test split must be --input")
    parser.add_argument("--model-dir", type=Path, help="tlm-export output of --checkpoint (with --quantize int8)")
    parser.add_argument("--input", type=Path, help="raw inputs, the test split of --data")
    parser.add_argument("--tokenized", type=Path, help="the same inputs as space-separated symbols (for CTranslate2)")
    parser.add_argument("--peer", choices=("none", "ctranslate2"), default="none")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, help="default: all that apply")
    parser.add_argument("--beam", type=int, nargs="+", default=[5, 1])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs per setting; medians are reported")
    parser.add_argument("--json", type=Path, help="also write every run here")
    args = parser.parse_args(argv)
    if args.toy:
        model = build_toy(args.toy, args.size, args.toy_updates, args.toy_vocab, args.toy_test)
        work = args.toy
    elif args.checkpoint and args.data and args.model_dir and args.input:
        if args.peer == "ctranslate2" and not args.tokenized:
            parser.error("--peer ctranslate2 needs --tokenized: CTranslate2 reads symbols, not raw text")
        model = Model(args.checkpoint, args.data, args.model_dir, args.input, args.tokenized or args.input)
        work = args.model_dir.parent / (args.model_dir.name + "-bench")
        work.mkdir(exist_ok=True)
    else:
        parser.error("give --toy DIR, or --checkpoint, --data, --model-dir and --input")
    systems = list(args.systems or [s for s in SYSTEMS if args.peer == "ctranslate2" or not s.startswith("ct2")])
    if any(s.startswith("ct2") for s in systems):
        convert_ct2(model, work)
    config = json.loads((model.model_dir / "config.json").read_text())
    if "int8" not in config["graphs"]:
        systems = [s for s in systems if s != "tlm-int8"]
    dims = config["dims"]
    print(f"checkpoint {model.checkpoint}: {dims['encoder_layers']}+{dims['decoder_layers']} layers, width "
          f"{dims['embed_dim']}, {dims['heads']} heads, vocabulary {dims['target_vocab']}")
    print(f"inputs {model.raw} ({sum(1 for _ in iter_lines(model.raw))} sentences); batch {args.batch_size}; "
          f"max-len-b {MAX_LEN_B}; {args.repeat} interleaved repeats, medians; CPU {os.cpu_count()} cores")

    runs: dict[tuple[str, int, int], list[Run]] = {}
    for beam in args.beam:
        for threads in args.threads:
            for _ in range(args.repeat):
                for system in systems:
                    run = run_system(system, model, beam, args.batch_size, threads)
                    runs.setdefault((system, beam, threads), []).append(run)
                    print(f"  {LABELS[system]:<21} beam {beam} threads {threads}: {run.rate:7.0f} tok/s  "
                          f"wall {run.wall:5.1f}s  RSS {run.rss_mb:4.0f} MB", file=sys.stderr, flush=True)
    startup: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.txt"
        empty.write_text("")
        for _ in range(args.repeat):
            for system in systems:
                if system != "fairseq":
                    startup.setdefault(system, []).append(run_system(system, model, 5, args.batch_size, 1, empty))
    report(systems, runs, startup, args.beam, args.threads, model.references)
    if args.json:
        write_text_atomic(args.json, json.dumps({
            "runs": [{"system": s, "beam": b, "threads": t, "tokens_per_second": [r.rate for r in rs],
                      "tokens_per_cpu_second": [r.cpu_rate for r in rs], "wall": [r.wall for r in rs],
                      "rss_mb": [r.rss_mb for r in rs]} for (s, b, t), rs in runs.items()],
            "startup": {s: [r.wall for r in rs] for s, rs in startup.items()}}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
