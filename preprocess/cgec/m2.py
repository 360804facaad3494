"""Reading, applying and writing M2 files (the NUS MaxMatch gold-edit format).

An ``S`` line holds the space-tokenized source; each ``A start end|||type|||correction|||
required|||comment|||annotator`` line is one edit. ``-NONE-`` is an empty correction, ``||``
separates alternative corrections (the first is used), and ``noop`` (offsets ``-1 -1``) says an
annotator made no change. The NLPCC 2018 gold also contains *repeated* annotator ids: the same id
gives two alternative edit sets one after the other (e.g. sentence 48 of the test set). Such
sets are told apart by :func:`edit_sets`, because applying them together would overlap.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import IO, Iterable, Iterator

from tlm_fairseq.files import iter_lines
from tlm_fairseq.errors import InputError

NONE = "-NONE-"


@dataclass(frozen=True)
class Edit:
    """One ``A`` line. ``start == end == -1`` marks a noop; ``correction`` is a token list."""

    start: int
    end: int
    etype: str
    correction: tuple[str, ...]
    annotator: str
    required: str = "REQUIRED"
    comment: str = NONE

    @property
    def is_noop(self) -> bool:
        return self.start < 0

    def to_line(self) -> str:
        corr = " ".join(self.correction) if self.correction else NONE
        return f"A {self.start} {self.end}|||{self.etype}|||{corr}|||{self.required}|||{self.comment}|||{self.annotator}"


@dataclass
class Sentence:
    """One M2 block: source tokens, edits in file order, and the line of its ``S`` line."""

    tokens: list[str]
    edits: list[Edit] = field(default_factory=list)
    lineno: int = 0

    def annotators(self) -> list[str]:
        """Annotator ids in order of first appearance."""
        seen: dict[str, None] = {}
        for e in self.edits:
            seen.setdefault(e.annotator, None)
        return list(seen)


def _parse_edit(path: str, lineno: int, line: str, n_tokens: int) -> Edit:
    fields = line[2:].split("|||")
    if len(fields) < 3:
        raise InputError(path, lineno, f"edit line needs at least 3 '|||' fields, got {len(fields)}: {line[:80]!r}")
    span = fields[0].split()
    if len(span) != 2:
        raise InputError(path, lineno, f"edit span must be 'start end', got {fields[0]!r}")
    try:
        start, end = int(span[0]), int(span[1])
    except ValueError:
        raise InputError(path, lineno, f"edit offsets are not integers: {fields[0]!r}") from None
    noop = (start, end) == (-1, -1)
    if not noop and not (0 <= start <= end <= n_tokens):
        raise InputError(path, lineno, f"edit span {start} {end} outside the sentence (0..{n_tokens})")
    corr = fields[2].split("||")[0].strip()
    correction = () if noop or corr in (NONE, "") else tuple(corr.split())
    annotator = fields[5].strip() if len(fields) > 5 else "0"
    required = fields[3] if len(fields) > 3 else "REQUIRED"
    comment = fields[4] if len(fields) > 4 else NONE
    return Edit(start, end, fields[1], correction, annotator, required, comment)


def read_m2(path: str | os.PathLike[str]) -> Iterator[Sentence]:
    """Parse an M2 file, raising :class:`InputError` at the first malformed line."""
    path = str(path)
    current: Sentence | None = None
    for lineno, line in iter_lines(path):
        if not line.strip():
            if current is not None:
                yield current
                current = None
            continue
        if line.startswith("S ") or line == "S":
            if current is not None:
                yield current
            current = Sentence(line[2:].split(), [], lineno)
        elif line.startswith("A "):
            if current is None:
                raise InputError(path, lineno, "edit line before any 'S' line")
            current.edits.append(_parse_edit(path, lineno, line, len(current.tokens)))
        else:
            raise InputError(path, lineno, f"expected a line starting with 'S ' or 'A ', got {line[:40]!r}")
    if current is not None:
        yield current


def edit_sets(sent: Sentence, annotator: str) -> list[list[Edit]]:
    """The annotator's edits split into independent sets.

    Within one set the M2 convention lists edits left to right without overlap; a new set starts
    where an edit begins before the previous one ends (a repeated annotator id). Noops form an
    empty set. An annotator without any line gets no set.
    """
    sets: list[list[Edit]] = []
    current: list[Edit] | None = None
    prev_end = -1
    for e in sent.edits:
        if e.annotator != annotator:
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


def apply_edits(tokens: list[str], edits: Iterable[Edit]) -> list[str]:
    """Apply non-overlapping edits to ``tokens``; raises ``ValueError`` on overlap."""
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


def targets(sent: Sentence, annotator: str | None, path: str = "<m2>") -> list[list[str]]:
    """Corrected token lists for one annotator (``None``: every annotator), one per edit set.

    A sentence without any edit line, or without lines for the chosen annotator, is treated as
    correct (target = source), which is how the NLPCC gold marks annotators that changed nothing.
    """
    ids = sent.annotators() if annotator is None else [annotator]
    out: list[list[str]] = []
    for ann in ids:
        for edits in edit_sets(sent, ann):
            try:
                out.append(apply_edits(sent.tokens, edits))
            except ValueError as exc:
                raise InputError(path, sent.lineno, f"annotator {ann}: {exc}") from None
    return out or [list(sent.tokens)]


def write_m2(sentences: Iterable[Sentence], fh: IO[str]) -> None:
    """Write blocks separated by one blank line, as the reference files are."""
    for sent in sentences:
        fh.write("S " + " ".join(sent.tokens) + "\n")
        for e in sent.edits:
            fh.write(e.to_line() + "\n")
        fh.write("\n")
