"""The one M2 reader: blocks of ``S``/``A``/``T``/``I`` lines kept whole, with a strictness switch.

Preprocessing (training targets, word-to-character conversion) and scoring read M2 files through
this module, so both sides agree on what is malformed:

* Lines NUS M2 3.2 cannot read at all are errors in every mode: a block that does not start with
  an ``S`` line, a line that is not ``S``/``A``/``T``/``I``, an ``A`` line without its six
  ``|||``-separated fields, offsets that are not two integers, an annotator id that is not one.
* Lines NUS scores by a rule of its own although they are wrong are errors in *strict* mode
  (preprocessing: a training target built from them would be a guess) and counted warnings
  otherwise (scoring keeps NUS's figures, but a malformed gold file never passes silently): an
  edit span that starts after it ends (``A 4 3``), a negative span other than the noop marker
  ``-1 -1``, a span past the end of the sentence, and an ``S`` line with no blank line before it
  (NUS reads such blocks as one paragraph of several sentences).

A block keeps every line in file order (ChERRANT ``T`` lines, ``I`` lines, every ``||``
alternative, the required and comment fields, fields past the sixth), so :func:`format_blocks`
writes back what was read; line numbers are kept for messages but take no part in equality.
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import IO, Iterable, Iterator, Union

from tlm_fairseq.errors import InputError, UserError
from tlm_fairseq.files import BOM, iter_lines

NONE = "-NONE-"  #: an empty correction
NOOP = "noop"  #: the edit type of "this annotator changed nothing"
FIELDS = 6  #: ``start end|||type|||corrections|||required|||comment|||annotator``
_T_LINE = re.compile(r"T(\d+(-A\d+)?)?( |$)")  # ChERRANT's corrected sentence: "T0-A0 ..."


class M2Error(UserError, ValueError):
    """Bad M2 input or scorer settings; commands print it as one line and exit 2."""


class M2InputError(M2Error, InputError):
    """A malformed M2 line, located as ``FILE:LINE``."""


class M2Warning(UserWarning):
    """A malformed gold line that NUS 3.2 scores anyway (emitted when no collector is given)."""


@dataclass(frozen=True)
class M2Source:
    """An ``S`` line: the space-tokenized source sentence."""

    tokens: tuple[str, ...]
    line: int = field(default=0, compare=False)

    def to_line(self) -> str:
        return "S " + " ".join(self.tokens)


@dataclass(frozen=True)
class M2Edit:
    """An ``A`` line as written: ``corrections`` are the ``||`` alternatives, ``-NONE-`` kept."""

    start: int
    end: int
    etype: str
    corrections: tuple[str, ...]
    required: str = "REQUIRED"
    comment: str = NONE
    annotator: int = 0
    extra: tuple[str, ...] = ()  # fields past the sixth (NUS ignores them; kept for writing)
    line: int = field(default=0, compare=False)

    @classmethod
    def from_tokens(cls, start: int, end: int, etype: str, tokens: Iterable[str], annotator: int = 0,
                    required: str = "REQUIRED", comment: str = NONE) -> M2Edit:
        """An edit with one correction given as tokens (none: ``-NONE-``, a deletion)."""
        text = " ".join(tokens)
        return cls(start, end, etype, (text or NONE,), required, comment, annotator)

    @property
    def is_noop(self) -> bool:
        """NUS reads type ``noop`` as "no change" whatever the span; ``-1 -1`` is its marker."""
        return self.etype == NOOP or (self.start, self.end) == (-1, -1)

    @property
    def correction(self) -> tuple[str, ...]:
        """Tokens of the first alternative, the one preprocessing applies (``()``: delete)."""
        if self.is_noop:
            return ()
        first = self.corrections[0].strip()
        return () if first in (NONE, "") else tuple(first.split())

    def to_line(self) -> str:
        fields = (f"{self.start} {self.end}", self.etype, "||".join(self.corrections), self.required,
                  self.comment, str(self.annotator), *self.extra)
        return "A " + "|||".join(fields)


@dataclass(frozen=True)
class M2Note:
    """A ``T`` (ChERRANT corrected sentence) or ``I`` line, kept verbatim; scoring ignores it."""

    text: str
    line: int = field(default=0, compare=False)

    def to_line(self) -> str:
        return self.text


M2Line = Union[M2Source, M2Edit, M2Note]


@dataclass(frozen=True)
class M2Block:
    """The lines between two blank lines; the first is an ``S`` line.

    More than one ``S`` line happens only in lenient mode, when blank-line separators are missing;
    NUS then reads one paragraph whose edit offsets count from its first ``S`` line, which is
    what :attr:`tokens` gives.
    """

    lines: tuple[M2Line, ...]

    @classmethod
    def of(cls, tokens: Iterable[str], edits: Iterable[M2Edit] = (), line: int = 0) -> M2Block:
        return cls((M2Source(tuple(tokens), line), *edits))

    @property
    def line(self) -> int:
        return self.lines[0].line

    @cached_property
    def sources(self) -> tuple[M2Source, ...]:
        return tuple(x for x in self.lines if isinstance(x, M2Source))

    @cached_property
    def tokens(self) -> tuple[str, ...]:
        """Source tokens the edit offsets index (all ``S`` lines of the block, as NUS joins them)."""
        srcs = self.sources
        return srcs[0].tokens if len(srcs) == 1 else tuple(t for s in srcs for t in s.tokens)

    @cached_property
    def edits(self) -> tuple[M2Edit, ...]:
        return tuple(x for x in self.lines if isinstance(x, M2Edit))

    def annotators(self) -> list[int]:
        """Annotator ids in order of first appearance."""
        return list(dict.fromkeys(e.annotator for e in self.edits))

    def to_text(self) -> str:
        return "".join(x.to_line() + "\n" for x in self.lines)


# ----------------------------------------------------------------------------------------------
# Malformed lines that NUS scores anyway
# ----------------------------------------------------------------------------------------------

_EFFECT = {
    "span_order": "scored as NUS 3.2 does: a gold edit that no system edit can match",
    "negative_span": "scored as NUS 3.2 does: not a gold edit",
    "out_of_range": "scored as NUS 3.2 does: not a gold edit",
    "missing_separator": "scored as NUS 3.2 does: one block of several sentences, edit offsets counted "
                         "from its first 'S' line",
}


@dataclass
class _Kind:
    path: str
    line: int
    detail: str
    count: int = 1


class M2Warnings:
    """Malformed-but-scorable lines counted by kind, with the first ``FILE:LINE`` of each kind."""

    KINDS = tuple(_EFFECT)

    def __init__(self) -> None:
        self._kinds: dict[str, _Kind] = {}

    def add(self, kind: str, path: str, line: int, detail: str) -> None:
        if kind not in _EFFECT:
            raise ValueError(f"unknown M2 warning kind {kind!r}")
        seen = self._kinds.get(kind)
        if seen is None:
            self._kinds[kind] = _Kind(path, line, detail)
        else:
            seen.count += 1

    def count(self, kind: str) -> int:
        seen = self._kinds.get(kind)
        return seen.count if seen else 0

    def __len__(self) -> int:
        return sum(k.count for k in self._kinds.values())

    def lines(self) -> list[str]:
        """One line per kind, in order of first appearance."""
        out = []
        for kind, k in self._kinds.items():
            more = f" ({k.count} lines like this; the first shown)" if k.count > 1 else ""
            out.append(f"{k.path}:{k.line}: {k.detail}{more}; {_EFFECT[kind]}")
        return out

    def emit(self) -> None:
        """Report through :mod:`warnings` (for library callers that passed no collector)."""
        for text in self.lines():
            warnings.warn(text, M2Warning, stacklevel=4)


# ----------------------------------------------------------------------------------------------
# Parsing
# ----------------------------------------------------------------------------------------------


def _parse_edit(text: str, lineno: int, path: str) -> M2Edit:
    fields = text[2:].split("|||")
    if len(fields) < FIELDS:
        raise M2InputError(path, lineno, f"malformed A line (expected {FIELDS} '|||'-separated fields, "
                                         f"got {len(fields)}): {text[:80]!r}")
    offsets = fields[0].split()
    try:
        if len(offsets) != 2:
            raise ValueError
        start, end = int(offsets[0]), int(offsets[1])
    except ValueError:
        raise M2InputError(path, lineno, f"malformed A line (offsets {fields[0].strip()!r} are not two integers)") from None
    try:
        annotator = int(fields[5])
    except ValueError:
        raise M2InputError(path, lineno, f"malformed A line (annotator id {fields[5].strip()!r} is not an integer)") from None
    return M2Edit(start, end, fields[1], tuple(fields[2].split("||")), fields[3], fields[4], annotator,
                  tuple(fields[6:]), lineno)


def _parse_line(text: str, lineno: int, path: str, first: bool) -> M2Line:
    if text.startswith("S ") or text == "S":
        return M2Source(tuple(text[2:].split()), lineno)
    if first:
        raise M2InputError(path, lineno, f"a block must start with an 'S' line, got {text[:40]!r}")
    if text.startswith("A "):
        return _parse_edit(text, lineno, path)
    if text.startswith("I ") or _T_LINE.match(text):
        return M2Note(text, lineno)
    raise M2InputError(path, lineno, f"unexpected line in an M2 block (not S, A, T or I): {text[:40]!r}")


def _problems(block: M2Block) -> list[tuple[int, str, str]]:
    """``(line, kind, detail)`` of every malformed-but-scorable line of a block, in line order."""
    found = [(s.line, "missing_separator", "'S' line without a blank line before it (each block must "
                                           "be followed by a blank line)") for s in block.sources[1:]]
    n = len(block.tokens)
    for e in block.edits:
        if e.is_noop:
            continue
        span = f"edit span {e.start} {e.end}"
        if e.start < 0 or e.end < 0:
            found.append((e.line, "negative_span", f"{span} is negative (only a noop may be '-1 -1')"))
        elif e.start > n or e.end > n:
            found.append((e.line, "out_of_range", f"{span} outside the sentence (0..{n})"))
        elif e.start > e.end:
            found.append((e.line, "span_order", f"{span} starts after it ends"))
    return sorted(found)


def parse_blocks(lines: Iterable[tuple[int, str]], path: str = "<m2>", strict: bool = False,
                 collect: M2Warnings | None = None) -> Iterator[M2Block]:
    """Blocks of numbered lines (as :func:`tlm_fairseq.files.iter_lines` yields them).

    ``strict``: every malformed line is an :class:`M2InputError`. Otherwise malformed lines that
    NUS scores go to ``collect``; without a collector they are reported through :mod:`warnings`
    once the input is exhausted.
    """
    sink = M2Warnings() if collect is None else collect
    block: list[M2Line] = []

    def close() -> M2Block:
        done = M2Block(tuple(block))
        block.clear()
        for lineno, kind, detail in _problems(done):
            if strict:
                raise M2InputError(path, lineno, detail)
            sink.add(kind, path, lineno, detail)
        return done

    for lineno, text in lines:
        if not text.strip():
            if block:
                yield close()
            continue
        block.append(_parse_line(text, lineno, path, first=not block))
    if block:
        yield close()
    if collect is None and not strict:
        sink.emit()


def text_lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines of an in-memory file, split as :func:`~tlm_fairseq.files.iter_lines` splits."""
    if text.startswith(BOM):
        text = text[1:]
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    for lineno, line in enumerate(parts, start=1):
        yield lineno, line[:-1] if line.endswith("\r") else line


def read_blocks(path: str | os.PathLike[str], strict: bool = False,
                collect: M2Warnings | None = None) -> Iterator[M2Block]:
    """Blocks of an M2 file (UTF-8, BOM and CRLF accepted); see :func:`parse_blocks`."""
    return parse_blocks(iter_lines(path), os.fspath(path), strict, collect)


def write_blocks(blocks: Iterable[M2Block], fh: IO[str]) -> None:
    """Each block followed by one blank line, as the reference files are written."""
    for block in blocks:
        fh.write(block.to_text())
        fh.write("\n")


def format_blocks(blocks: Iterable[M2Block]) -> str:
    return "".join(block.to_text() + "\n" for block in blocks)
