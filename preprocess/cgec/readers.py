"""Readers that turn each CGEC corpus format into (source, target) sentence pairs.

Formats:

* NLPCC 2018 training data: ``id<TAB>n<TAB>source<TAB>correction_1 ... correction_n``. ``n = 0``
  means the sentence needs no change; it yields a copy pair only when ``keep_correct`` is set.
* MuCGEC: ``id<TAB>source<TAB>reference_1 ...``; the test file has ``id<TAB>source`` only. The
  reference ``没有错误`` ("no error") means the source is already correct: it becomes a copy pair
  and, like NLPCC's ``n = 0``, is kept only with ``keep_correct``.
* Plain parallel text: two files with one sentence per line.
* M2: targets rebuilt by applying one annotator's edits (or every annotator's).

Text is returned as found (only line endings and a leading BOM removed); normalization and
tokenization are later, separate steps.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

from tlm_fairseq.files import iter_lines
from tlm_fairseq.errors import InputError
from .m2 import Annotator, read_m2, targets

PathLike = str | os.PathLike[str]
MUCGEC_NO_ERROR = "没有错误"


@dataclass(frozen=True)
class Pair:
    """One training example and where it came from (``file:line``) for error messages."""

    src: str
    tgt: str
    origin: str


def _fields(path: PathLike, lineno: int, line: str, minimum: int, what: str) -> list[str]:
    fields = line.split("\t")
    if len(fields) < minimum:
        raise InputError(path, lineno, f"expected {what}, found {len(fields)} tab-separated field(s)")
    return fields


def _nlpcc_line(path: PathLike, lineno: int, line: str, keep_correct: bool) -> list[Pair]:
    fields = _fields(path, lineno, line, 3, "'id<TAB>n<TAB>source<TAB>corrections...'")
    try:
        n = int(fields[1])
    except ValueError:
        raise InputError(path, lineno, f"second field must be the number of corrections, got {fields[1][:20]!r}") from None
    if n < 0 or len(fields) != 3 + n:
        raise InputError(path, lineno, f"says {n} correction(s) but has {len(fields) - 3}")
    origin = f"{path}:{lineno}"
    if n == 0:
        return [Pair(fields[2], fields[2], origin)] if keep_correct else []
    return [Pair(fields[2], tgt, origin) for tgt in fields[3:]]


def read_nlpcc(path: PathLike, keep_correct: bool = False, skipped: list[InputError] | None = None) -> Iterator[Pair]:
    """Pairs from the NLPCC 2018 training file, one per listed correction.

    With a ``skipped`` list, malformed lines are recorded there and skipped instead of raising
    (the official file is large and was assembled from crowd-sourced corrections).
    """
    for lineno, line in iter_lines(path, skipped):
        if not line.strip():
            continue
        try:
            yield from _nlpcc_line(path, lineno, line, keep_correct)
        except InputError as err:
            if skipped is None:
                raise
            skipped.append(err)


def _mucgec_line(path: PathLike, lineno: int, line: str, require_references: bool, keep_correct: bool) -> list[Pair]:
    fields = _fields(path, lineno, line, 2, "'id<TAB>source<TAB>references...'")
    src, refs = fields[1], [r for r in fields[2:] if r.strip()]
    origin = f"{path}:{lineno}"
    if not refs:
        if require_references:
            raise InputError(path, lineno, "no reference correction (a source-only file can only be a test set)")
        return [Pair(src, src, origin)]
    pairs = [Pair(src, src if ref.strip() == MUCGEC_NO_ERROR else ref, origin) for ref in refs]
    if not keep_correct and require_references:
        pairs = [p for p in pairs if p.tgt != p.src]
    return pairs


def read_mucgec(
    path: PathLike, require_references: bool = True, skipped: list[InputError] | None = None, keep_correct: bool = False
) -> Iterator[Pair]:
    """Pairs from a MuCGEC file, one per reference.

    Without references (the test file) the source is copied as a placeholder target, which is
    only allowed when ``require_references`` is false (then copy pairs are always kept, since a
    test set needs every sentence). ``skipped`` works as in :func:`read_nlpcc`.
    """
    for lineno, line in iter_lines(path, skipped):
        if not line.strip():
            continue
        try:
            yield from _mucgec_line(path, lineno, line, require_references, keep_correct)
        except InputError as err:
            if skipped is None:
                raise
            skipped.append(err)


def read_mucgec_sources(path: PathLike) -> Iterator[tuple[str, str]]:
    """``(id, source)`` of every line; used to generate corrections for a MuCGEC submission."""
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        fields = _fields(path, lineno, line, 2, "'id<TAB>source...'")
        yield fields[0], fields[1]


def read_parallel(src_path: PathLike, tgt_path: PathLike) -> Iterator[Pair]:
    """Pairs from two line-aligned files; differing line counts are an error."""
    src_lines = iter_lines(src_path)
    tgt_lines = iter_lines(tgt_path)
    lineno = 0
    for lineno, src in src_lines:
        nxt = next(tgt_lines, None)
        if nxt is None:
            raise InputError(tgt_path, lineno, f"ends before {src_path} (which continues at line {lineno})")
        yield Pair(src, nxt[1], f"{src_path}:{lineno}")
    extra = next(tgt_lines, None)
    if extra is not None:
        raise InputError(tgt_path, extra[0], f"has more lines than {src_path} ({lineno})")


def read_m2_pairs(path: PathLike, annotator: Annotator | None = 0) -> Iterator[Pair]:
    """Pairs from an M2 file: source tokens joined without spaces, targets rebuilt from edits.

    ``annotator=None`` yields one pair per annotator edit set; identical targets of one sentence
    are yielded once. The file is read strictly (see :mod:`preprocess.cgec.m2`).
    """
    for block in read_m2(path):
        src = "".join(block.tokens)
        seen: set[str] = set()
        for tokens in targets(block, annotator, str(path)):
            tgt = "".join(tokens)
            if tgt not in seen:
                seen.add(tgt)
                yield Pair(src, tgt, f"{path}:{block.line}")
