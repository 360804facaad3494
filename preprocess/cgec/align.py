"""Minimal character edits between a source span and its correction.

Word-level gold edits are coarse (``建康 -> 健康`` replaces two characters to fix one). The
character-level gold (produced by ChERRANT) keeps only the characters that change, so the
converter re-derives them with a weighted edit distance: a substitution costs 1.5, more than an
insertion or deletion (1) but less than both together (2). That makes the alignment keep every
shared character in place when a cheaper-looking substitution chain exists (``负担 -> 担忧`` is
"delete 负, keep 担, insert 忧", as in the reference), yet still prefer one substitution to a
delete-plus-insert pair. Ties are broken towards matches, then substitutions.
"""
from __future__ import annotations

from typing import Sequence

SUB_COST = 1.5


def diff_spans(src: Sequence[str], tgt: Sequence[str], sub_cost: float = SUB_COST) -> list[tuple[int, int, int, int]]:
    """Maximal runs of non-matching alignment steps as ``(src_start, src_end, tgt_start, tgt_end)``."""
    n, m = len(src), len(tgt)
    dist = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        dist[i][0] = float(i)
    for j in range(1, m + 1):
        dist[0][j] = float(j)
    for i in range(1, n + 1):
        row, prev = dist[i], dist[i - 1]
        for j in range(1, m + 1):
            diag = prev[j - 1] + (0.0 if src[i - 1] == tgt[j - 1] else sub_cost)
            row[j] = min(diag, prev[j] + 1.0, row[j - 1] + 1.0)
    steps: list[tuple[str, int, int]] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and src[i - 1] == tgt[j - 1] and dist[i][j] == dist[i - 1][j - 1]:
            steps.append(("M", i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and j > 0 and dist[i][j] == dist[i - 1][j - 1] + sub_cost:
            steps.append(("S", i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and dist[i][j] == dist[i - 1][j] + 1.0:
            steps.append(("D", i - 1, j))
            i -= 1
        else:
            steps.append(("I", i, j - 1))
            j -= 1
    spans: list[tuple[int, int, int, int]] = []
    cur: list[int] | None = None
    for op, si, tj in reversed(steps):
        if op == "M":
            if cur is not None:
                spans.append((cur[0], cur[1], cur[2], cur[3]))
                cur = None
            continue
        if cur is None:
            cur = [si, si, tj, tj]
        if op != "I":
            cur[1] = si + 1
        if op != "D":
            cur[3] = tj + 1
    if cur is not None:
        spans.append((cur[0], cur[1], cur[2], cur[3]))
    return spans


def is_reordering(src: Sequence[str], tgt: Sequence[str]) -> bool:
    """True when ``tgt`` only reorders ``src`` (a word-order edit, kept whole like ChERRANT's ``W``)."""
    return len(tgt) > 1 and list(src) != list(tgt) and sorted(src) == sorted(tgt)
