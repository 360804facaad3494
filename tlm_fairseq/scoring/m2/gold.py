"""The scorer's view of M2 input: gold sentences with NUS 3.2's reading rules, and hypotheses.

Blocks come from :mod:`.reader` (the one M2 reader, in its lenient mode); this module only applies
what NUS's ``load_annotation`` does with them: ``noop`` edits and edits with negative or
out-of-sentence offsets are not gold edits (yet their annotator still counts as an alternative),
``-NONE-`` is an empty correction, an annotator id repeated later in a block extends that
annotator's list, and a block with several ``S`` lines yields one sentence per ``S`` line, each
keeping the edits that end within the paragraph up to its end.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from tlm_fairseq.files import iter_lines

from .reader import NONE, M2Block, M2Warnings, parse_blocks, read_blocks, text_lines


@dataclass(frozen=True)
class GoldEdit:
    """One gold edit as NUS keeps it: token span, the source text it covers, the alternatives."""

    start: int
    end: int
    original: str
    corrections: tuple[str, ...]


@dataclass(frozen=True)
class GoldSentence:
    """A source sentence and its gold edits per annotator (ascending annotator id, as NUS 3.2
    iterates them: a Python 2 dict of small integer keys; ties between annotators go to the first)."""

    source: str
    annotations: tuple[tuple[int, tuple[GoldEdit, ...]], ...]
    line: int = 0

    @property
    def tokens(self) -> list[str]:
        return self.source.split()


def gold_sentences(block: M2Block) -> list[GoldSentence]:
    """The gold sentences NUS 3.2 reads from one block (one per ``S`` line)."""
    para = block.tokens
    annotations: dict[int, list[GoldEdit]] = {}
    for e in block.edits:
        start, end = (-1, -1) if e.etype == "noop" else (e.start, e.end)
        corrections = tuple("" if c == NONE else c.strip() for c in e.corrections)
        annotations.setdefault(e.annotator, []).append(GoldEdit(start, end, " ".join(para[start:end]), corrections))
    ordered = sorted(annotations.items())
    out = []
    tok_offset = 0
    for src in block.sources:
        tok_offset += len(src.tokens)
        kept = tuple(
            (ann, tuple(g for g in edits if 0 <= g.start <= tok_offset and 0 <= g.end <= tok_offset))
            for ann, edits in ordered
        )
        out.append(GoldSentence(" ".join(src.tokens), kept or ((0, ()),), src.line))
    return out


def parse_m2(text: str, path: str = "<m2>", collect: M2Warnings | None = None) -> list[GoldSentence]:
    """Gold sentences of M2 text; malformed-but-scorable lines go to ``collect`` (see the reader)."""
    return [g for block in parse_blocks(text_lines(text), path, False, collect) for g in gold_sentences(block)]


def read_m2(path: str | os.PathLike[str], collect: M2Warnings | None = None) -> list[GoldSentence]:
    """Gold sentences of an M2 file (UTF-8, BOM and CRLF accepted)."""
    return [g for block in read_blocks(path, False, collect) for g in gold_sentences(block)]


def read_hypotheses(path: str | os.PathLike[str]) -> list[str]:
    """One hypothesis per line, stripped; empty lines are valid (empty hypotheses)."""
    return [line.strip() for _, line in iter_lines(path)]
