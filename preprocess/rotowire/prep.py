"""Rotowire (Wiseman et al., 2017) JSON -> factored records + summaries -> fairseq binaries.

Every game becomes a sequence of records ``(value, entity, type, home/away)``; the target is the
summary tokens as given. The record order is fixed and documented (see ``extract_records``) so that
two runs produce byte-identical outputs and ``--max-records`` drops the least informative records.

Outputs in ``--dest`` (the ``data_to_text`` task reads the binaries, the evaluation script reads the
text files):

* ``dict.{value,entity,type,ha,tgt}.txt``      fairseq dictionaries, built on the training split
* ``{split}.{value,entity,type,ha,tgt}.{bin,idx}``  fairseq mmap indexed datasets, aligned per game
* ``{split}.{value,entity,type,ha,tgt}.txt``    the same, one game per line, space-separated tokens
* ``{split}.ids.txt``                           index of each kept game in the original JSON list
* ``prep.json``                                 what was done and the list of files written

The JSON is streamed game by game, so memory stays bounded by one game plus the symbol counts. The
whole folder is built under a temporary name and renamed to ``--dest`` only when complete: a failed
run leaves no half-written dataset, and a failed rerun with ``--force`` keeps the previous one.
``--force`` replaces only a folder this command wrote (recognised by its ``prep.json``).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from fairseq.data import Dictionary, indexed_dataset
from tqdm import tqdm

from tlm_fairseq.cli import CliParser, run_cli
from tlm_fairseq.errors import InputError, UserError
from tlm_fairseq.files import atomic_dir, check_can_create, check_replaceable, iter_lines

from .records import (  # the extraction itself is torch-free, for serving
    GAME_KEYS,  # noqa: F401  (part of this module's documented interface)
    RECORD_FIELDS,
    TARGET_FIELD,
    RotowireFormatError,
    extract_records,
    iter_json_items,
    summary_tokens,
)

logger = logging.getLogger("preprocess.rotowire")

TOOL = "tlm-prep-rotowire"
MANIFEST = "prep.json"
FORMAT_VERSION = 1
_SPLIT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass
class SplitStats:
    """What happened to one split; reported in the log and used by the tests."""

    games: int = 0
    kept: int = 0
    empty_summaries: list[int] = field(default_factory=list)
    records: int = 0
    target_tokens: int = 0
    unknown: dict[str, int] = field(default_factory=dict)


def extract_split(
    json_path: Path,
    text_prefix: Path,
    max_records: int | None,
    counters: dict[str, Counter[str]] | None,
    progress: bool = True,
) -> SplitStats:
    """Pass 1: stream the games, write the per-field text files, count symbols if asked.

    Called inside the temporary output folder, so the files need no atomic writes of their own.
    """
    stats = SplitStats()
    names = RECORD_FIELDS + (TARGET_FIELD, "ids")
    handles = {name: open(f"{text_prefix}.{name}.txt", "w", encoding="utf-8") for name in names}
    try:
        games = tqdm(
            iter_json_items(json_path), desc=f"{json_path.name}: records", unit="game", disable=not progress
        )
        for index, (line, game) in enumerate(games):
            stats.games += 1
            try:
                records = extract_records(game, index, max_records)
                target = summary_tokens(game, index)
                if target and not records:
                    raise RotowireFormatError(index, "box_score", "no records extracted from")
            except RotowireFormatError as err:
                raise err.in_file(json_path, line) from None
            if not target:
                stats.empty_summaries.append(index)
                continue
            stats.kept += 1
            stats.records += len(records)
            stats.target_tokens += len(target)
            columns = dict(zip(RECORD_FIELDS, zip(*records))) | {TARGET_FIELD: target}
            for name, tokens in columns.items():
                handles[name].write(" ".join(tokens) + "\n")
                if counters is not None:
                    counters[name].update(tokens)
            handles["ids"].write(f"{index}\n")
    finally:
        for handle in handles.values():
            handle.close()
    if stats.games == 0:
        raise InputError(json_path, None, "the list of games is empty")
    if stats.kept == 0:
        raise InputError(json_path, None, f"none of its {stats.games} game(s) has a summary")
    if stats.empty_summaries:
        shown = ", ".join(map(str, stats.empty_summaries[:10]))
        logger.warning(
            "%s: skipped %d game(s) with an empty summary (indices %s%s)",
            json_path,
            len(stats.empty_summaries),
            shown,
            ", ..." if len(stats.empty_summaries) > 10 else "",
        )
    return stats


def build_dictionary(counter: Counter[str], threshold: int) -> Dictionary:
    """A fairseq dictionary (most frequent first, ties by symbol: deterministic)."""
    dictionary = Dictionary()
    for symbol, count in sorted(counter.items()):
        dictionary.add_symbol(symbol, n=count)
    dictionary.finalize(threshold=threshold, nwords=-1, padding_factor=8)
    return dictionary


def load_dictionary(path: Path) -> Dictionary:
    """A dictionary of ``--dict-dir``, with a one-line error naming the file and line."""
    if not path.is_file():
        raise InputError(path, None, "not found (--dict-dir needs the dict.*.txt of an earlier run)")
    lines = []
    for lineno, line in iter_lines(path):  # strict UTF-8
        fields = line.rstrip().removesuffix(" #fairseq:overwrite").rsplit(" ", 1)
        if len(fields) != 2 or not fields[1].isdigit():
            raise InputError(path, lineno, f"not a fairseq dictionary line ('<token> <count>'): {line[:40]!r}")
        lines.append(line + "\n")
    try:
        return Dictionary.load(io.StringIO("".join(lines)))
    except (ValueError, RuntimeError) as exc:  # e.g. a duplicate symbol
        raise InputError(path, None, " ".join(str(exc).split(". ")[0].split())) from None


def binarize_split(
    text_prefix: Path,
    out_prefix: Path,
    dicts: dict[str, Dictionary],
    stats: SplitStats,
    progress: bool = True,
) -> None:
    """Pass 2: encode the text files into one mmap indexed dataset per field (target gets EOS)."""
    names = RECORD_FIELDS + (TARGET_FIELD,)
    inputs = [open(f"{text_prefix}.{name}.txt", encoding="utf-8") for name in names]
    try:
        builders = {
            name: indexed_dataset.make_builder(
                indexed_dataset.data_file_path(f"{out_prefix}.{name}"), impl="mmap", vocab_size=len(dicts[name])
            )
            for name in names
        }
        unknown = dict.fromkeys(names, 0)
        lines = tqdm(
            zip(*inputs), total=stats.kept, desc=f"{out_prefix.name}: binarize", unit="game", disable=not progress
        )
        for index, row in enumerate(lines):
            lengths = set()
            for name, line in zip(names, row):
                dictionary = dicts[name]
                lookup, unk = dictionary.indices.get, dictionary.unk_index
                ids = [lookup(t, unk) for t in line.split()]
                unknown[name] += ids.count(unk)
                if name == TARGET_FIELD:
                    ids.append(dictionary.eos_index)
                else:
                    lengths.add(len(ids))
                builders[name].add_item(torch.from_numpy(np.asarray(ids, dtype=np.int64)))
            if len(lengths) != 1:
                raise AssertionError(f"{text_prefix}: record fields of game line {index} are not aligned")
        for name in names:
            builders[name].finalize(indexed_dataset.index_file_path(f"{out_prefix}.{name}"))
    finally:
        for handle in inputs:
            handle.close()
    stats.unknown = unknown


def is_previous_output(path: Path) -> bool:
    """A folder this command wrote: its ``prep.json`` names this tool, and every entry is one it listed."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or manifest.get("tool") != TOOL:
        return False
    files = manifest.get("files")
    if not isinstance(files, list):
        return False
    entries = {p.name for p in path.iterdir()}
    return entries <= set(files) | {MANIFEST} and all((path / name).is_file() for name in entries)


def check_dest(dest: Path, force: bool) -> None:
    """Refuse a ``--dest`` we may not write before any work starts: a file, a path under a file,
    an unwritable folder, or an existing folder (unless ``force`` and it is a previous output)."""
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise UserError(f"--dest {dest} exists and is not a folder")
    check_replaceable(dest, is_previous_output if force else None)
    check_can_create(dest, f"--dest {dest}")


def check_inputs(input_dir: Path, dest: Path, splits: Sequence[str], dict_dir: Path | None) -> None:
    """Every split's JSON exists, split names are plain, no input lies inside ``--dest``."""
    if not splits:
        raise UserError("--splits needs at least one split")
    for split in splits:
        if not _SPLIT_NAME.fullmatch(split):
            raise UserError(f"--splits: {split!r} is not a plain split name (letters, digits, '_', '-', '.')")
    if len(set(splits)) != len(splits):
        raise UserError(f"--splits names a split twice: {' '.join(splits)}")
    if dict_dir is None and "train" not in splits:
        raise UserError("without --dict-dir the 'train' split is needed to build the dictionaries")
    for split in splits:
        path = input_dir / f"{split}.json"
        if not path.is_file():
            raise InputError(path, None, "not found (each split needs SPLIT.json in --input-dir)")
    out = dest.resolve()
    if out == input_dir.resolve() or out in input_dir.resolve().parents:
        raise UserError(f"--input-dir {input_dir} lies inside --dest {dest}; write the output elsewhere")


def preprocess(
    input_dir: Path,
    dest: Path,
    splits: Sequence[str] = ("train", "valid", "test"),
    max_records: int | None = None,
    threshold_src: int = 0,
    threshold_tgt: int = 0,
    dict_dir: Path | None = None,
    progress: bool = True,
    force: bool = False,
) -> dict[str, SplitStats]:
    """Run both passes on ``{input_dir}/{split}.json`` into ``dest`` (built whole, then renamed).

    Dictionaries come from the train split, or from ``dict_dir``. ``dest`` must not exist, or with
    ``force`` be an earlier output of this function.
    """
    check_inputs(input_dir, dest, splits, dict_dir)
    check_dest(dest, force)
    names = RECORD_FIELDS + (TARGET_FIELD,)
    given = {n: load_dictionary(dict_dir / f"dict.{n}.txt") for n in names} if dict_dir is not None else None
    counters: dict[str, Counter[str]] = {n: Counter() for n in names}
    ordered = sorted(splits, key=lambda s: s != "train")
    stats = {}
    with atomic_dir(dest, is_previous_output if force else None) as out:
        for split in ordered:
            count_here = given is None and split == "train"
            stats[split] = extract_split(
                input_dir / f"{split}.json", out / split, max_records, counters if count_here else None, progress
            )
            s = stats[split]
            logger.info(
                "%s: %d games, %d kept, %.1f records and %.1f summary tokens per game",
                split, s.games, s.kept, s.records / s.kept, s.target_tokens / s.kept,
            )  # fmt: skip
        dicts = given or {
            n: build_dictionary(counters[n], threshold_tgt if n == TARGET_FIELD else threshold_src) for n in names
        }
        for name, dictionary in dicts.items():
            with open(out / f"dict.{name}.txt", "w", encoding="utf-8") as handle:
                dictionary.save(handle)
            logger.info("dictionary %s: %d types", name, len(dictionary))
        for split in ordered:
            binarize_split(out / split, out / split, dicts, stats[split], progress)
            s = stats[split]
            total = {n: s.target_tokens if n == TARGET_FIELD else s.records for n in names}
            logger.info(
                "%s: unknown symbols %s",
                split,
                ", ".join(f"{n} {100 * s.unknown[n] / max(total[n], 1):.2f}%" for n in names),
            )
        manifest = {
            "tool": TOOL,
            "format_version": FORMAT_VERSION,
            "input_dir": str(input_dir.resolve()),
            "splits": list(ordered),
            "max_records": max_records,
            "dict_dir": None if dict_dir is None else str(dict_dir.resolve()),
            "stats": {split: asdict(s) for split, s in stats.items()},
            "files": sorted(p.name for p in out.iterdir()),
        }
        (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return stats


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog=TOOL, description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--input-dir", type=Path, required=True, help="folder with {split}.json (the extracted rotowire/)"
    )
    parser.add_argument("--dest", type=Path, required=True, help="output folder (fairseq data-bin); must not exist")
    parser.add_argument(
        "--force", action="store_true",
        help="replace an existing --dest written by this command (only once the new one is complete)",
    )  # fmt: skip
    parser.add_argument("--splits", nargs="+", default=["train", "valid", "test"])
    parser.add_argument(
        "--max-records", type=int, default=None, help="keep at most N records per game (default: all)"
    )
    parser.add_argument(
        "--threshold-src", type=int, default=0, help="map record symbols seen fewer times to <unk>"
    )
    parser.add_argument(
        "--threshold-tgt", type=int, default=0, help="map summary tokens seen fewer times to <unk>"
    )
    parser.add_argument(
        "--dict-dir",
        type=Path,
        default=None,
        help="reuse dict.*.txt from an earlier run instead of building them on train",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def _main(args: argparse.Namespace) -> int:
    if args.max_records is not None and args.max_records < 1:
        raise UserError("--max-records must be positive")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    preprocess(
        args.input_dir,
        args.dest,
        args.splits,
        args.max_records,
        args.threshold_src,
        args.threshold_tgt,
        args.dict_dir,
        not args.no_progress,
        args.force,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point ``tlm-prep-rotowire``."""
    return run_cli(build_parser(), _main, None if argv is None else list(argv))


if __name__ == "__main__":
    sys.exit(main())
