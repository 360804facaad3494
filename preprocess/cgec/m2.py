"""Corrected sentences from M2 blocks (the NUS MaxMatch gold-edit format), for training targets.

Files are read by the project's one M2 reader (:mod:`tlm_fairseq.scoring.m2.reader`) in strict
mode: a line the scorer would only warn about (an edit span past the sentence or starting after
it ends, a missing blank line between blocks) is an error here, because a target built from it
would be a guess. ``-NONE-`` is an empty correction, ``||`` separates alternatives (the first is
applied), and a ``noop`` edit (offsets ``-1 -1``) says an annotator made no change. The NLPCC 2018
gold also *repeats* annotator ids: the same id gives two alternative edit sets one after the other
(e.g. sentence 48 of the test set). Such sets are told apart by :func:`edit_sets`, because
applying them together would overlap.
"""
from __future__ import annotations

import os
from typing import Iterable, Iterator

from tlm_fairseq.errors import InputError, UserError
from tlm_fairseq.scoring.m2.reader import M2Block, M2Edit, read_blocks

Annotator = int | str


def read_m2(path: str | os.PathLike[str]) -> Iterator[M2Block]:
    """Blocks of an M2 file; any malformed line is an :class:`InputError` naming it."""
    return read_blocks(path, strict=True)


def annotator_id(annotator: Annotator) -> int:
    """An annotator id as M2 files write it (an integer); ``"0"`` from a command line is 0."""
    try:
        return int(annotator)
    except ValueError:
        raise UserError(f"an M2 annotator id is an integer, got {annotator!r}") from None


def edit_sets(block: M2Block, annotator: Annotator) -> list[list[M2Edit]]:
    """The annotator's edits split into independent sets.

    Within one set the M2 convention lists edits left to right without overlap; a new set starts
    where an edit begins before the previous one ends (a repeated annotator id). Noops form an
    empty set. An annotator without any line gets no set.
    """
    ann = annotator_id(annotator)
    sets: list[list[M2Edit]] = []
    current: list[M2Edit] | None = None
    prev_end = -1
    for e in block.edits:
        if e.annotator != ann:
            continue
        if e.is_noop:
            if current is not None:
                sets.append(current)
            sets.append([])
            current, prev_end = None, -1
            continue
        if current is None or e.start < prev_end:
            if current is not None:
                sets.append(current)
            current = []
        current.append(e)
        prev_end = e.end
    if current is not None:
        sets.append(current)
    return sets


def apply_edits(tokens: Iterable[str], edits: Iterable[M2Edit]) -> list[str]:
    """Apply non-overlapping edits (first alternative) to ``tokens``; raises ``ValueError`` on overlap."""
    tokens = list(tokens)
    out: list[str] = []
    pos = 0
    for e in sorted((e for e in edits if not e.is_noop), key=lambda e: (e.start, e.end)):
        if e.start < pos:
            raise ValueError(f"edits overlap at token {e.start}")
        out.extend(tokens[pos:e.start])
        out.extend(e.correction)
        pos = e.end
    out.extend(tokens[pos:])
    return out


def targets(block: M2Block, annotator: Annotator | None, path: str = "<m2>") -> list[list[str]]:
    """Corrected token lists for one annotator (``None``: every annotator), one per edit set.

    A sentence without any edit line, or without lines for the chosen annotator, is treated as
    correct (target = source), which is how the NLPCC gold marks annotators that changed nothing.
    """
    ids = block.annotators() if annotator is None else [annotator_id(annotator)]
    out: list[list[str]] = []
    for ann in ids:
        for edits in edit_sets(block, ann):
            try:
                out.append(apply_edits(block.tokens, edits))
            except ValueError as exc:
                raise InputError(path, block.line, f"annotator {ann}: {exc}") from None
    return out or [list(block.tokens)]
