"""Prepare Chinese GEC data for fairseq: read, normalize, split, segment, filter, binarize.

    python -m preprocess.cgec --train-nlpcc data.train --valid-size 5000 \\
        --test-m2 nlpcc18_test.word.m2 --bpe char --workers 2 --out data/cgec

writes ``OUT/text/{train,valid,test}.{src,tgt}`` (space-separated tokens), ``OUT/data-bin``
(fairseq binary data, joined dictionary, languages ``src``/``tgt``, plus ``prep.json`` and, for
SentencePiece, ``spm.model``) and ``OUT/prep.json`` with every count. The output folder is built
under a temporary name and appears only when complete.

Order of steps: read -> normalize -> drop empty -> de-duplicate (``--no-dedup`` keeps all) ->
validation split (``--valid-size`` distinct sources chosen by a seeded hash, or explicit
``--valid-*`` files) -> train SentencePiece on the train split (``--bpe sentencepiece``) ->
tokenize -> length filter on train and valid (``--min-len/--max-len/--max-ratio``; the test split
is never filtered, every test sentence must get a hypothesis) -> binarize.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from tqdm import tqdm

from . import tokenize_zh
from .binarize import binarize
from .bpe import META_NAME, SPM_NAME, CharSegmenter, Segmenter, train_spm, write_meta
from tlm_fairseq.cli import CliParser, run_cli
from tlm_fairseq.errors import UserError
from tlm_fairseq.files import atomic_dir, check_replaceable, count_lines
from tlm_fairseq.errors import InputError
from .readers import Pair, read_m2_pairs, read_mucgec, read_nlpcc, read_parallel
from .split import LengthFilter, dedup, split_valid

DEFAULT_VALID_SIZE = 5000


@dataclass
class Inputs:
    """The files of one split, by format."""

    nlpcc: list[str] = field(default_factory=list)
    mucgec: list[str] = field(default_factory=list)
    parallel: list[tuple[str, str]] = field(default_factory=list)
    m2: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.nlpcc or self.mucgec or self.parallel or self.m2)

    def paths(self) -> list[str]:
        return [*self.nlpcc, *self.mucgec, *(p for pair in self.parallel for p in pair), *self.m2]


def _with_progress(pairs: Iterable[Pair], path: str, desc: str) -> Iterator[Pair]:
    total = count_lines(path)
    bar = tqdm(total=total, desc=f"{desc} {Path(path).name}", unit="line", disable=None, leave=False)
    last = 0
    for p in pairs:
        line = int(p.origin.rsplit(":", 1)[1])
        bar.update(line - last)
        last = line
        yield p
    bar.update(total - last)
    bar.close()


def read_inputs(inp: Inputs, args: argparse.Namespace, split: str, skipped: list[InputError] | None) -> list[Pair]:
    """Every pair of one split, in the order the files were given."""
    annotator = None if args.m2_annotator == "all" else args.m2_annotator
    pairs: list[Pair] = []
    for path in inp.nlpcc:
        pairs += _with_progress(read_nlpcc(path, args.keep_correct, skipped), path, split)
    for path in inp.mucgec:
        pairs += _with_progress(read_mucgec(path, split != "test", skipped, args.keep_correct), path, split)
    for src, tgt in inp.parallel:
        pairs += _with_progress(read_parallel(src, tgt), src, split)
    for path in inp.m2:
        pairs += _with_progress(read_m2_pairs(path, annotator if split != "test" else "0"), path, split)
    if split == "test":
        # One pair per input sentence (its first reference), so line i of the test split is
        # sentence i of the input and of its gold M2 file.
        firsts: dict[str, Pair] = {}
        for p in pairs:
            firsts.setdefault(p.origin, p)
        pairs = list(firsts.values())
    return pairs


def normalize_pairs(pairs: list[Pair], stats: dict[str, int], split: str, drop_empty: bool = True) -> list[Pair]:
    """Normalize both sides; drop pairs left with an empty side (not for test: order matters)."""
    out: list[Pair] = []
    for p in tqdm(pairs, desc=f"normalize {split}", unit="pair", disable=None, leave=False):
        src, tgt = tokenize_zh.normalize(p.src), tokenize_zh.normalize(p.tgt)
        if drop_empty and (not src or not tgt):
            stats[f"{split}_dropped_empty"] = stats.get(f"{split}_dropped_empty", 0) + 1
            continue
        if not src:
            raise InputError(p.origin.rsplit(":", 1)[0], int(p.origin.rsplit(":", 1)[1]), "test source is empty after normalization")
        out.append(Pair(src, tgt, p.origin))
    return out


def write_split(out_dir: Path, split: str, pairs: list[tuple[list[str], list[str]]]) -> None:
    with open(out_dir / f"{split}.src", "w", encoding="utf-8") as fs, open(out_dir / f"{split}.tgt", "w", encoding="utf-8") as ft:
        for src, tgt in pairs:
            fs.write(" ".join(src) + "\n")
            ft.write(" ".join(tgt) + "\n")


OUTPUT_ENTRIES = {META_NAME, "text", "data-bin"}


def is_previous_output(path: Path) -> bool:
    """A folder this command wrote: its ``prep.json`` and nothing but its own entries."""
    entries = {p.name for p in path.iterdir()}
    return META_NAME in entries and entries <= OUTPUT_ENTRIES


def prepare(args: argparse.Namespace) -> dict[str, object]:
    """Run the whole pipeline into a temporary folder that becomes ``args.out`` on success."""
    t0 = time.time()
    stats: dict[str, int] = {}
    skipped: list[InputError] | None = [] if args.skip_bad_lines else None
    train_in = Inputs(args.train_nlpcc, args.train_mucgec, [tuple(p) for p in args.train_parallel], args.train_m2)
    valid_in = Inputs([], args.valid_mucgec, [tuple(p) for p in args.valid_parallel], args.valid_m2)
    test_in = Inputs([], [args.test_mucgec] if args.test_mucgec else [], [tuple(args.test_parallel)] if args.test_parallel else [],
                     [args.test_m2] if args.test_m2 else [])
    if train_in.empty():
        raise UserError("no training data: give --train-nlpcc, --train-mucgec, --train-parallel or --train-m2")
    valid_size = args.valid_size if args.valid_size is not None else (0 if not valid_in.empty() else DEFAULT_VALID_SIZE)
    if valid_size == 0 and valid_in.empty():
        raise UserError("no validation data: give --valid-size N or --valid-* files")
    replace = is_previous_output if args.force else None
    check_replaceable(args.out, replace)
    out_dir = Path(args.out).resolve()
    for path in (*train_in.paths(), *valid_in.paths(), *test_in.paths()):
        if out_dir in Path(path).resolve().parents:
            raise UserError(f"input {path} lies inside --out {args.out}; write the output elsewhere")

    train = read_inputs(train_in, args, "train", skipped)
    stats["train_read"] = len(train)
    train = normalize_pairs(train, stats, "train")
    if not args.no_dedup:
        before = len(train)
        train = dedup(train)
        stats["train_dropped_duplicates"] = before - len(train)
    valid = normalize_pairs(read_inputs(valid_in, args, "valid", skipped), stats, "valid")
    if valid_size:
        try:
            train, held = split_valid(train, valid_size, args.seed)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        valid += held
    # Never skip test lines: line i of the test split must stay sentence i of the gold file.
    test = normalize_pairs(read_inputs(test_in, args, "test", None), stats, "test", drop_empty=False)
    test_sources = {p.src for p in test}
    overlap = sum(p.src in test_sources for p in train)
    stats["train_pairs_with_test_source"] = overlap
    if args.drop_test_overlap and overlap:
        train = [p for p in train if p.src not in test_sources]
    if skipped:
        stats["skipped_bad_lines"] = len(skipped)
        for err in skipped[:5]:
            print(f"skipped: {err}", file=sys.stderr)
    if not train or not valid:
        raise UserError(f"nothing left to train on ({len(train)} train, {len(valid)} valid pairs after cleaning)")

    with atomic_dir(args.out, replace) as out:
        text_dir = out / "text"
        bin_dir = out / "data-bin"
        text_dir.mkdir()
        bin_dir.mkdir()
        segmenter: Segmenter = CharSegmenter()
        if args.bpe == "sentencepiece":
            texts = [s for p in train for s in (p.src, p.tgt)]
            segmenter = train_spm(texts, bin_dir / SPM_NAME, args.spm_vocab_size, threads=max(1, args.workers))
        limits = LengthFilter(args.min_len, args.max_len, args.max_ratio)
        splits = {"train": train, "valid": valid, **({"test": test} if test else {})}
        for split, pairs in splits.items():
            tokenized: list[tuple[list[str], list[str]]] = []
            for p in tqdm(pairs, desc=f"tokenize {split}", unit="pair", disable=None, leave=False):
                src, tgt = segmenter.encode(p.src), segmenter.encode(p.tgt)
                if split == "test" or limits.keep(src, tgt):
                    tokenized.append((src, tgt))
            stats[f"{split}_dropped_length"] = len(pairs) - len(tokenized)
            stats[f"{split}_pairs"] = len(tokenized)
            if not tokenized:
                raise UserError(f"the length filter left no {split} pairs (--min-len/--max-len/--max-ratio)")
            write_split(text_dir, split, tokenized)
        binarize(text_dir, bin_dir, list(splits), workers=args.workers, threshold=args.dict_threshold)
        meta: dict[str, object] = {
            "bpe": segmenter.name,
            "normalization": "tokenize_zh.normalize v1",
            "text_dir": "../text",
            "splits": list(splits),
            "stats": stats,
            "seconds": round(time.time() - t0, 1),
        }
        if segmenter.name == "sentencepiece":
            meta["spm_model"] = SPM_NAME
        write_meta(bin_dir, meta)
        (out / META_NAME).write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return meta


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="tlm-prep-cgec", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("training data (any combination; files are read in the order given)")
    g.add_argument("--train-nlpcc", nargs="+", action="extend", default=[], metavar="FILE",
                   help="NLPCC 2018 training file: id<TAB>n<TAB>source<TAB>correction_1..n")
    g.add_argument("--train-mucgec", nargs="+", action="extend", default=[], metavar="FILE",
                   help="MuCGEC-format file: id<TAB>source<TAB>reference_1...")
    g.add_argument("--train-parallel", nargs=2, action="append", default=[], metavar=("SRC", "TGT"),
                   help="two line-aligned plain-text files (repeatable)")
    g.add_argument("--train-m2", nargs="+", action="extend", default=[], metavar="FILE",
                   help="M2 file; targets rebuilt from --m2-annotator's edits")
    g.add_argument("--keep-correct", action="store_true",
                   help="keep correct sentences as copy pairs: NLPCC lines with n=0 and MuCGEC references "
                        "'没有错误' (dropped by default)")
    g.add_argument("--m2-annotator", default="0", metavar="ID",
                   help="annotator whose edits build M2 training targets, or 'all' for one pair per annotator (default 0)")
    g.add_argument("--skip-bad-lines", action="store_true",
                   help="skip malformed NLPCC/MuCGEC lines and invalid UTF-8 (counted and reported) instead of stopping")
    g = p.add_argument_group("validation and test data")
    g.add_argument("--valid-size", type=int, default=None, metavar="N",
                   help=f"hold out N distinct training sources with all their targets, chosen by a seeded hash "
                        f"(default {DEFAULT_VALID_SIZE}, or 0 when --valid-* files are given)")
    g.add_argument("--seed", type=int, default=1, help="key of the validation-split hash (default 1)")
    g.add_argument("--valid-mucgec", nargs="+", action="extend", default=[], metavar="FILE")
    g.add_argument("--valid-parallel", nargs=2, action="append", default=[], metavar=("SRC", "TGT"))
    g.add_argument("--valid-m2", nargs="+", action="extend", default=[], metavar="FILE")
    t = g.add_mutually_exclusive_group()
    t.add_argument("--test-m2", metavar="FILE", help="test split from an M2 file (targets: annotator 0)")
    t.add_argument("--test-mucgec", metavar="FILE", help="test split from a MuCGEC file; references optional")
    t.add_argument("--test-parallel", nargs=2, metavar=("SRC", "TGT"))
    g.add_argument("--drop-test-overlap", action="store_true", help="drop training pairs whose source is a test source")
    g = p.add_argument_group("segmentation and filtering")
    g.add_argument("--bpe", choices=["char", "sentencepiece"], default="char",
                   help="char: one token per character (default); sentencepiece: unigram model trained on train")
    g.add_argument("--spm-vocab-size", type=int, default=8000)
    g.add_argument("--min-len", type=int, default=1, help="minimum tokens per side for train/valid (default 1)")
    g.add_argument("--max-len", type=int, default=200, help="maximum tokens per side for train/valid (default 200)")
    g.add_argument("--max-ratio", type=float, default=0.0,
                   help="drop train/valid pairs whose longer side exceeds this many times the shorter (0: off, default)")
    g.add_argument("--no-dedup", action="store_true", help="keep repeated (source, target) training pairs")
    g = p.add_argument_group("output")
    g.add_argument("--out", required=True, metavar="DIR")
    g.add_argument("--force", action="store_true", help="replace an existing DIR (only once the new one is complete)")
    g.add_argument("--workers", type=int, default=1, help="fairseq-preprocess workers and SentencePiece threads")
    g.add_argument("--dict-threshold", type=int, default=0, help="drop dictionary entries seen at most this often")
    return p


def _main(args: argparse.Namespace) -> int:
    if args.valid_size is not None and args.valid_size < 0:
        raise UserError("--valid-size must be >= 0")
    if args.min_len < 0 or args.max_len < max(1, args.min_len):
        raise UserError("--max-len must be >= max(1, --min-len)")
    meta = prepare(args)
    stats = meta["stats"]
    assert isinstance(stats, dict)
    print(f"wrote {args.out} in {meta['seconds']} s: " + ", ".join(f"{k}={v}" for k, v in stats.items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``tlm-prep-cgec``."""
    return run_cli(build_parser(), _main, argv)


if __name__ == "__main__":
    sys.exit(main())
