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

The JSON is streamed game by game and every output is written to a temporary file and renamed on
success, so memory stays bounded by one game plus the symbol counts and a failure leaves no
half-written dataset behind.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from fairseq.data import Dictionary, indexed_dataset
from tqdm import tqdm

from .records import (  # the extraction itself is torch-free, for serving
    GAME_KEYS,  # noqa: F401  (part of this module's documented interface)
    RECORD_FIELDS,
    TARGET_FIELD,
    RotowireFormatError,
    extract_records,
    iter_json_list,
    summary_tokens,
)

logger = logging.getLogger("preprocess.rotowire")


@contextmanager
def atomic_outputs() -> Iterator[list[tuple[str, str]]]:
    """Collect ``(temporary, final)`` paths; rename all on success, delete the temporaries on error."""
    pairs: list[tuple[str, str]] = []
    try:
        yield pairs
    except BaseException:
        for tmp, _ in pairs:
            if os.path.exists(tmp):
                os.remove(tmp)
        raise
    for tmp, final in pairs:
        os.replace(tmp, final)


def _temporary(pairs: list[tuple[str, str]], final: Path) -> str:
    tmp = f"{final}.tmp{os.getpid()}"
    pairs.append((tmp, str(final)))
    return tmp


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
    """Pass 1: stream the games, write the per-field text files, count symbols if asked."""
    stats = SplitStats()
    names = RECORD_FIELDS + (TARGET_FIELD, "ids")
    with atomic_outputs() as pairs:
        handles = {}
        try:
            for name in names:
                handles[name] = open(
                    _temporary(pairs, Path(f"{text_prefix}.{name}.txt")), "w", encoding="utf-8"
                )
            games = tqdm(
                iter_json_list(json_path),
                desc=f"{json_path.name}: records",
                unit="game",
                disable=not progress,
            )
            for index, game in enumerate(games):
                stats.games += 1
                records = extract_records(game, index, max_records)
                target = summary_tokens(game, index)
                if not target:
                    stats.empty_summaries.append(index)
                    continue
                if not records:
                    raise RotowireFormatError(index, "box_score", "no records extracted from")
                stats.kept += 1
                stats.records += len(records)
                stats.target_tokens += len(target)
                columns = dict(zip(RECORD_FIELDS, zip(*records))) | {TARGET_FIELD: target}
                for name, tokens in columns.items():
                    handles[name].write(" ".join(tokens) + "\n")
                    if counters is not None:
                        counters[name].update(tokens)
                handles["ids"].write(f"{index}\n")
        except RotowireFormatError as err:
            raise err.in_file(json_path) from None
        finally:
            for handle in handles.values():
                handle.close()
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


def binarize_split(
    text_prefix: Path,
    out_prefix: Path,
    dicts: dict[str, Dictionary],
    stats: SplitStats,
    progress: bool = True,
) -> None:
    """Pass 2: encode the text files into one mmap indexed dataset per field (target gets EOS)."""
    names = RECORD_FIELDS + (TARGET_FIELD,)
    with atomic_outputs() as pairs:
        inputs, builders = [], {}
        try:
            for name in names:
                inputs.append(open(f"{text_prefix}.{name}.txt", encoding="utf-8"))
            for name in names:
                data = _temporary(pairs, Path(indexed_dataset.data_file_path(f"{out_prefix}.{name}")))
                builders[name] = indexed_dataset.make_builder(data, impl="mmap", vocab_size=len(dicts[name]))
            unknown = dict.fromkeys(names, 0)
            lines = tqdm(
                zip(*inputs),
                total=stats.kept,
                desc=f"{out_prefix.name}: binarize",
                unit="game",
                disable=not progress,
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
                    raise ValueError(f"{text_prefix}: record fields of game line {index} are not aligned")
            for name in names:
                builders[name].finalize(
                    _temporary(pairs, Path(indexed_dataset.index_file_path(f"{out_prefix}.{name}")))
                )
        finally:
            for handle in inputs:
                handle.close()
    stats.unknown = unknown


def _save_dictionary(dictionary: Dictionary, path: Path) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        dictionary.save(handle)
    os.replace(tmp, path)


def preprocess(
    input_dir: Path,
    dest: Path,
    splits: Sequence[str] = ("train", "valid", "test"),
    max_records: int | None = None,
    threshold_src: int = 0,
    threshold_tgt: int = 0,
    dict_dir: Path | None = None,
    progress: bool = True,
) -> dict[str, SplitStats]:
    """Run both passes on ``{input_dir}/{split}.json``; dictionaries come from train or ``dict_dir``."""
    if dict_dir is None and "train" not in splits:
        raise ValueError("without --dict-dir the 'train' split is needed to build the dictionaries")
    for split in splits:
        if not (input_dir / f"{split}.json").is_file():
            raise FileNotFoundError(f"{input_dir / f'{split}.json'} not found")
    dest.mkdir(parents=True, exist_ok=True)
    names = RECORD_FIELDS + (TARGET_FIELD,)
    counters: dict[str, Counter[str]] = {n: Counter() for n in names}
    ordered = sorted(splits, key=lambda s: s != "train")
    stats = {}
    for split in ordered:
        count_here = dict_dir is None and split == "train"
        stats[split] = extract_split(
            input_dir / f"{split}.json", dest / split, max_records, counters if count_here else None, progress
        )
        s = stats[split]
        logger.info(
            "%s: %d games, %d kept, %.1f records and %.1f summary tokens per game",
            split,
            s.games,
            s.kept,
            s.records / max(s.kept, 1),
            s.target_tokens / max(s.kept, 1),
        )
    if dict_dir is None:
        dicts = {
            n: build_dictionary(counters[n], threshold_tgt if n == TARGET_FIELD else threshold_src)
            for n in names
        }
    else:
        dicts = {n: Dictionary.load(str(dict_dir / f"dict.{n}.txt")) for n in names}
    for name, dictionary in dicts.items():
        _save_dictionary(dictionary, dest / f"dict.{name}.txt")
        logger.info("dictionary %s: %d types", name, len(dictionary))
    for split in ordered:
        binarize_split(dest / split, dest / split, dicts, stats[split], progress)
        s = stats[split]
        total = {n: s.target_tokens if n == TARGET_FIELD else s.records for n in names}
        logger.info(
            "%s: unknown symbols %s",
            split,
            ", ".join(f"{n} {100 * s.unknown[n] / max(total[n], 1):.2f}%" for n in names),
        )
    return stats


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point ``tlm-prep-rotowire``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--input-dir", type=Path, required=True, help="folder with {split}.json (the extracted rotowire/)"
    )
    parser.add_argument("--dest", type=Path, required=True, help="output folder (fairseq data-bin)")
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
    args = parser.parse_args(argv)
    if args.max_records is not None and args.max_records < 1:
        parser.error("--max-records must be positive")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        preprocess(
            args.input_dir,
            args.dest,
            args.splits,
            args.max_records,
            args.threshold_src,
            args.threshold_tgt,
            args.dict_dir,
            not args.no_progress,
        )
    except (RotowireFormatError, ValueError, FileNotFoundError) as err:
        print(f"tlm-prep-rotowire: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
