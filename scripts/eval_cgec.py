#!/usr/bin/env python3
"""Generate corrections with a trained CGEC model and score them with the M2 scorer.

Binarized split (made by ``python -m preprocess.cgec ... --test-m2 GOLD``)::

    python scripts/eval_cgec.py --data-bin data/cgec/data-bin --checkpoint ckpt/checkpoint_best.pt \\
        --split test --gold-m2 nlpcc18_test.char.m2 --output out/hyp.txt

Raw input through ``fairseq-interactive`` (plain lines, MuCGEC ``id<TAB>source``, or an M2 file)::

    python scripts/eval_cgec.py --data-bin data/cgec/data-bin --checkpoint ckpt/checkpoint_best.pt \\
        --input nlpcc18_test.word.m2 --input-format m2 --gold-m2 nlpcc18_test.word.m2 --m2-level word \\
        --output out/hyp.txt

Hypotheses are put back in input order, ``<unk>`` is replaced by the source's unknown characters,
the segmentation recorded in the data-bin is undone, and the text is written to ``--output``
(one line per input; with MuCGEC input, ``id<TAB>correction``). With ``--gold-m2`` the hypotheses
are re-tokenized like the gold file and kept as ``OUTPUT.char.tok`` / ``OUTPUT.word.tok``
(``--m2-level char``: one token per character, the default; ``word``: an approximation of
NLPCC's official PKUNLP segmentation, see :func:`preprocess.cgec.hyp.segment_like_source`) and
scored by ``python -m tlm_fairseq.scoring.m2``, whose Precision / Recall / F_0.5 lines are printed.
Arguments after ``--`` go to fairseq unchanged.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tqdm import tqdm  # noqa: E402

from preprocess.cgec import tokenize_zh  # noqa: E402
from preprocess.cgec.bpe import load_segmenter, read_meta  # noqa: E402
from tlm_fairseq.cli import CliParser, run_cli
from tlm_fairseq.errors import UserError  # noqa: E402
from preprocess.cgec.hyp import GenerationError, m2_tokens, parse_generation, read_vocab, restore_unk  # noqa: E402
from tlm_fairseq.files import atomic_write, iter_lines  # noqa: E402
from preprocess.cgec.m2 import Sentence, read_m2  # noqa: E402
from preprocess.cgec.readers import read_mucgec_sources  # noqa: E402

METRIC_RE = re.compile(r"^(Precision|Recall|F_[0-9.]+)\s*:\s*([0-9.]+)\s*$")


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def read_raw_input(path: str, fmt: str) -> tuple[list[str], list[str] | None]:
    """Source sentences (and MuCGEC ids) of a raw input file."""
    if fmt == "m2":
        return ["".join(s.tokens) for s in read_m2(path)], None
    if fmt == "mucgec":
        rows = list(read_mucgec_sources(path))
        return [src for _, src in rows], [i for i, _ in rows]
    return [line for _, line in iter_lines(path)], None


def run_fairseq(cmd: list[str], n_inputs: int, stdin_text: str | None, log_path: Path) -> list[str]:
    """Run a fairseq CLI, showing progress by counted hypotheses; returns its stdout lines."""
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    lines: list[str] = []
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=log, text=True, encoding="utf-8", env=env)
        if stdin_text is not None:
            assert proc.stdin is not None
            # fairseq-interactive reads lazily; a writer thread avoids a pipe deadlock on big inputs.
            import threading

            def feed() -> None:
                assert proc.stdin is not None
                proc.stdin.write(stdin_text)
                proc.stdin.close()

            threading.Thread(target=feed, daemon=True).start()
        assert proc.stdout is not None
        with tqdm(total=n_inputs, desc="generate", unit="sent", disable=None) as bar:
            for line in proc.stdout:
                lines.append(line)
                if line.startswith("H-"):
                    bar.update(1)
        rc = proc.wait()
    if rc != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-8:]
        raise UserError(f"{cmd[2]} exited with {rc}: " + " | ".join(tail))
    return lines


def fairseq_command(args: argparse.Namespace, module: str) -> list[str]:
    cmd = [sys.executable, "-m", module, str(args.data_bin), "--user-dir", str(ROOT / "tlm_fairseq"),
           "--path", str(args.checkpoint), "--source-lang", "src", "--target-lang", "tgt",
           "--beam", str(args.beam), "--max-len-a", str(args.max_len_a), "--max-len-b", str(args.max_len_b),
           "--batch-size", str(args.batch_size), "--required-batch-size-multiple", "1"]
    if args.cpu or not cuda_available():
        cmd.append("--cpu")
    elif args.fp16:
        cmd.append("--fp16")
    return cmd


def score(hyp_tok: Path, gold: str, beta: float, oversized: str = "error") -> tuple[str, dict[str, float]]:
    """Run the project's M2 scorer CLI; returns its report and the parsed figures."""
    cmd = [sys.executable, "-m", "tlm_fairseq.scoring.m2", str(hyp_tok), gold, "--beta", str(beta),
           "--oversized", oversized]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise UserError(f"M2 scorer failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()[-400:]}")
    for line in proc.stderr.splitlines():
        if line.startswith("tlm-m2: warning"):
            print(line, file=sys.stderr)
    figures = {m.group(1): float(m.group(2)) for m in map(METRIC_RE.match, proc.stdout.splitlines()) if m}
    return proc.stdout, figures


def check_gold(gold: list[Sentence] | None, n_inputs: int, args: argparse.Namespace) -> None:
    """Fail before generating when the gold file cannot belong to the input."""
    if gold is not None and len(gold) != n_inputs:
        what = args.input or f"split '{args.split}'"
        raise UserError(f"{args.gold_m2} has {len(gold)} sentences but {what} has {n_inputs}")


def evaluate(args: argparse.Namespace) -> int:
    data_bin = Path(args.data_bin)
    if not (data_bin / "dict.src.txt").is_file():
        raise UserError(f"{data_bin}: not a data-bin (no dict.src.txt)")
    if not Path(args.checkpoint).is_file():
        raise UserError(f"{args.checkpoint}: checkpoint not found")
    segmenter = load_segmenter(data_bin)
    vocab = read_vocab(data_bin / "dict.src.txt")
    gold = list(read_m2(args.gold_m2)) if args.gold_m2 else None
    ids: list[str] | None = None
    with tempfile.TemporaryDirectory(prefix="eval_cgec.") as tmp:
        tmpdir = Path(tmp)
        if args.input:
            raw, ids = read_raw_input(args.input, args.input_format)
            check_gold(gold, len(raw), args)
            sources = [segmenter.encode(tokenize_zh.normalize(s)) for s in raw]
            todo = [i for i, s in enumerate(sources) if s]
            stdin_text = "".join(" ".join(sources[i]) + "\n" for i in todo)
            cmd = fairseq_command(args, "fairseq_cli.interactive") + ["--buffer-size", str(args.batch_size)]
            out = run_fairseq(cmd + args.fairseq_args, len(todo), stdin_text, tmpdir / "fairseq.log")
            partial = parse_generation(out, len(todo))
            tokens: list[list[str]] = [[] for _ in sources]
            for i, hyp in zip(todo, partial):
                tokens[i] = hyp
        else:
            meta = read_meta(data_bin)
            text_dir = (data_bin / str(meta.get("text_dir", "../text"))).resolve()
            src_file = text_dir / f"{args.split}.src"
            if not (data_bin / f"{args.split}.src-tgt.src.idx").is_file():
                raise UserError(f"{data_bin}: no binarized split '{args.split}' (preprocess with --test-m2/--test-mucgec)")
            if not src_file.is_file():
                raise UserError(f"{src_file}: tokenized source of split '{args.split}' not found")
            sources = [line.split() for _, line in iter_lines(src_file)]
            check_gold(gold, len(sources), args)
            cmd = fairseq_command(args, "fairseq_cli.generate") + ["--gen-subset", args.split]
            tokens = parse_generation(run_fairseq(cmd + args.fairseq_args, len(sources), None, tmpdir / "fairseq.log"), len(sources))
        hyps = [segmenter.decode(restore_unk(h, s, vocab)) for h, s in zip(tokens, sources)]
        with atomic_write(args.output) as fh:
            for k, hyp in enumerate(hyps):
                fh.write(f"{ids[k]}\t{hyp}\n" if ids is not None else hyp + "\n")
        print(f"wrote {len(hyps)} hypotheses to {args.output}")
        if gold is None:
            return 0
        hyp_tok = Path(args.output + f".{args.m2_level}.tok")
        with atomic_write(hyp_tok) as fh:
            for hyp, g in zip(hyps, gold):
                fh.write(" ".join(m2_tokens(hyp, args.m2_level, g.tokens, args.word_seg)) + "\n")
        report, figures = score(hyp_tok, args.gold_m2, args.beta, args.m2_oversized)
        print(report, end="")
        if args.metrics_json:
            with atomic_write(args.metrics_json) as fh:
                json.dump({"gold": args.gold_m2, "m2_level": args.m2_level, "sentences": len(hyps), **figures}, fh, indent=1)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="eval_cgec.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-bin", required=True, help="data-bin written by preprocess.cgec (dictionary, prep.json)")
    p.add_argument("--checkpoint", required=True)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--split", default="test", help="binarized split to generate for (default test)")
    src.add_argument("--input", help="raw input file, generated through fairseq-interactive instead")
    p.add_argument("--input-format", choices=["plain", "mucgec", "m2"], default="plain")
    p.add_argument("--output", required=True, help="hypotheses, one per input line, in input order")
    p.add_argument("--gold-m2", help="gold M2 file to score against (sentence i = input i)")
    p.add_argument("--m2-level", choices=["char", "word"], default="char",
                   help="tokenization of the gold M2 file: char (default) or word (NLPCC's PKUNLP words)")
    p.add_argument("--word-seg", choices=["anchored", "jieba"], default="anchored",
                   help="word level: reuse gold source words and jieba for changed stretches (default), or jieba only")
    p.add_argument("--beta", type=float, default=0.5)
    p.add_argument("--m2-oversized", choices=["error", "unmerged"], default="error",
                   help="hypotheses nearly unrelated to their source (early checkpoints): stop (default) or "
                        "score them without merged edits and report how many (see tlm-m2 --oversized)")
    p.add_argument("--metrics-json", help="also write precision/recall/F as JSON")
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--max-len-a", type=float, default=1.5, help="max hypothesis length = a * source + b")
    p.add_argument("--max-len-b", type=int, default=10)
    p.add_argument("--cpu", action="store_true", help="generate on CPU even when a GPU is present")
    p.add_argument("--fp16", action="store_true", help="half precision on GPU")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        k = argv.index("--")
        argv, extra = argv[:k], argv[k + 1:]

    def body(args: argparse.Namespace) -> int:
        args.fairseq_args = extra
        try:
            return evaluate(args)
        except GenerationError as exc:
            raise UserError(str(exc)) from None

    return run_cli(build_parser(), body, argv)


if __name__ == "__main__":
    sys.exit(main())
