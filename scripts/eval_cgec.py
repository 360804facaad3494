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
scored by the project's M2 scorer (the ``tlm-m2`` library, in process), whose Precision / Recall /
F_0.5 lines are printed. The gold file is read first, by the same reader as ``tlm-m2``: what
``tlm-m2`` accepts is accepted here, and its warnings about malformed gold lines are printed before
generation starts. Arguments after ``--`` go to fairseq unchanged.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tqdm import tqdm  # noqa: E402

from preprocess.cgec import tokenize_zh  # noqa: E402
from preprocess.cgec.bpe import load_segmenter, read_meta  # noqa: E402
from preprocess.cgec.hyp import m2_tokens, read_vocab, restore_unk  # noqa: E402
from preprocess.cgec.readers import read_mucgec_sources  # noqa: E402
from tlm_fairseq.cli import CliParser, run_cli  # noqa: E402
from tlm_fairseq.errors import UserError  # noqa: E402
from tlm_fairseq.files import atomic_write, iter_lines  # noqa: E402
from tlm_fairseq.generation_output import best_hypotheses  # noqa: E402
from tlm_fairseq.scoring.m2 import GoldSentence, M2Scorer, M2Warnings, read_m2  # noqa: E402

PROG = "eval_cgec.py"
LOG_TAIL = 8  # lines of fairseq's stderr shown when it fails


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def read_raw_input(path: str, fmt: str) -> tuple[list[str], list[str] | None]:
    """Source sentences (and MuCGEC ids) of a raw input file."""
    if fmt == "m2":  # sources only: edit problems are reported for --gold-m2, not here
        return ["".join(g.tokens) for g in read_m2(path, M2Warnings())], None
    if fmt == "mucgec":
        rows = list(read_mucgec_sources(path))
        return [src for _, src in rows], [i for i, _ in rows]
    return [line for _, line in iter_lines(path)], None


def run_fairseq(cmd: list[str], n_inputs: int, stdin_text: str | None) -> list[str]:
    """Run a fairseq CLI, showing progress by counted hypotheses; returns its stdout lines.

    Its stderr is drained by a thread (a full pipe would stall fairseq) keeping the last lines
    for the error message.
    """
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                            errors="replace", env=env)
    assert proc.stdout is not None and proc.stderr is not None
    tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL)
    threads = [threading.Thread(target=lambda: tail.extend(line.rstrip("\n") for line in proc.stderr), daemon=True)]
    if stdin_text is not None:
        # fairseq-interactive reads lazily; a writer thread avoids a pipe deadlock on big inputs.
        def feed() -> None:
            assert proc.stdin is not None
            proc.stdin.write(stdin_text)
            proc.stdin.close()

        threads.append(threading.Thread(target=feed, daemon=True))
    for t in threads:
        t.start()
    lines: list[str] = []
    with tqdm(total=n_inputs, desc="generate", unit="sent", disable=None) as bar:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("H-"):
                bar.update(1)
    rc = proc.wait()
    for t in threads:
        t.join()
    if rc != 0:
        raise UserError(f"{cmd[2]} exited with {rc}: " + " | ".join(line for line in tail if line.strip()))
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


def read_gold(path: str) -> list[GoldSentence]:
    """Gold sentences, read as ``tlm-m2`` reads them; its warnings are printed here, up front."""
    found = M2Warnings()
    gold = read_m2(path, found)
    for line in found.lines():
        print(f"{PROG}: warning: {line}", file=sys.stderr)
    return gold


def score(hyp_tok: list[str], gold: list[GoldSentence], scorer: M2Scorer) -> dict[str, object]:
    """Print NUS's three lines for the re-tokenized hypotheses; returns the figures."""
    result = scorer.corpus_score(hyp_tok, gold)
    if result.unmerged_sentences:
        print(f"{PROG}: warning: {result.unmerged_sentences} sentence(s) exceeded the M2 lattice budget and were "
              f"scored without merged edits; the figures are not NUS-identical for them", file=sys.stderr)
    print(result.format())
    return {"Precision": result.precision, "Recall": result.recall, f"F_{result.beta:.1f}": result.f,
            **result.to_dict()}


def check_gold(gold: list[GoldSentence] | None, n_inputs: int, args: argparse.Namespace) -> None:
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
    scorer = M2Scorer(beta=args.beta, oversized=args.m2_oversized)  # bad settings fail before generation
    gold = read_gold(args.gold_m2) if args.gold_m2 else None
    ids: list[str] | None = None
    if args.input:
        raw, ids = read_raw_input(args.input, args.input_format)
        check_gold(gold, len(raw), args)
        sources = [segmenter.encode(tokenize_zh.normalize(s)) for s in raw]
        todo = [i for i, s in enumerate(sources) if s]
        stdin_text = "".join(" ".join(sources[i]) + "\n" for i in todo)
        cmd = fairseq_command(args, "fairseq_cli.interactive") + ["--buffer-size", str(args.batch_size)]
        out = run_fairseq(cmd + args.fairseq_args, len(todo), stdin_text)
        tokens: list[list[str]] = [[] for _ in sources]
        for i, hyp in zip(todo, best_hypotheses(out, len(todo), "fairseq-interactive output")):
            tokens[i] = hyp.tokens
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
        out = run_fairseq(cmd + args.fairseq_args, len(sources), None)
        tokens = [hyp.tokens for hyp in best_hypotheses(out, len(sources), "fairseq-generate output")]
    hyps = [segmenter.decode(restore_unk(h, s, vocab)) for h, s in zip(tokens, sources)]
    with atomic_write(args.output) as fh:
        for k, hyp in enumerate(hyps):
            fh.write(f"{ids[k]}\t{hyp}\n" if ids is not None else hyp + "\n")
    print(f"wrote {len(hyps)} hypotheses to {args.output}")
    if gold is None:
        return 0
    hyp_tok = [" ".join(m2_tokens(hyp, args.m2_level, g.tokens, args.word_seg)) for hyp, g in zip(hyps, gold)]
    with atomic_write(args.output + f".{args.m2_level}.tok") as fh:
        fh.writelines(line + "\n" for line in hyp_tok)
    figures = score(hyp_tok, gold, scorer)
    if args.metrics_json:
        with atomic_write(args.metrics_json) as fh:
            json.dump({"gold": args.gold_m2, "m2_level": args.m2_level, **figures}, fh, indent=1)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
        return evaluate(args)

    return run_cli(build_parser(), body, argv)


if __name__ == "__main__":
    sys.exit(main())
