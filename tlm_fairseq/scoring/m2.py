"""MaxMatch (M2) scorer for grammatical error correction, result-identical to the NUS M2 scorer 3.2.

Dahlmeier and Ng (NAACL 2012) score a hypothesis by extracting, from the Levenshtein edit lattice
between source and hypothesis tokens, the edit sequence that agrees most with the gold edits, and
counting matches. The NUS scorer builds that lattice for every sentence as a dict graph and runs
an O(V^3) transitive closure and an O(V*E) Bellman-Ford on it, which costs tens of seconds on a
2000-sentence test set. This module computes *the same* edit sequences, tie-breaking and
floating-point weights included, but:

* a common prefix and suffix are cut off when provably inert (the remaining core's shortest
  paths touch its border only at its corners, so the affixes are pure noop diagonals), and the
  two Levenshtein matrices (substitution cost 1 and 2) are filled only inside the diagonal band
  that can hold a shortest path (its width is the exact indel distance, from a bit-parallel LCS);
* the closure is one sweep over the intermediate vertex k in sorted order, which is exactly what
  NUS's k-i-j loop computes (when k is reached, arcs into k are final and arcs out of k are
  still base edges); it replays the same sequence of list appends, so the edge order, duplicate
  edges, ``len(E)`` (the gold-edge weight) and NUS's removal of transitive ``noop`` arcs from a
  list it is iterating (which lets the arc after each removed one survive) are all reproduced;
* Bellman-Ford stops once a pass changes nothing, which leaves the same distances and
  predecessors as running all ``|V|-1`` passes; float weights are summed in NUS's order.

Corpus scoring is sacrebleu-like: each sentence yields per-annotator sufficient statistics
(correct, proposed, gold); the annotator kept for a sentence is the one that maximises F_beta of
the running totals so far (ties: more correct, then smaller proposed + beta^2 * gold, then the
lowest annotator id), exactly as NUS does; the kept counts are summed into precision, recall and F.
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
from dataclasses import dataclass
from typing import Iterable, Sequence, TextIO

__all__ = [
    "SCORER_VERSION",
    "M2Error",
    "GoldEdit",
    "GoldSentence",
    "AnnotatorStats",
    "SentenceResult",
    "M2Score",
    "M2Scorer",
    "parse_m2",
    "read_m2",
    "read_hypotheses",
    "corpus_m2",
    "main",
]

#: Version of this implementation; it is part of every signature so that a score is reproducible.
SCORER_VERSION = "1.0"
OVERSIZED_POLICIES = ("error", "unmerged")
_EPSILON = 0.001  # NUS: weight added to every edge that does not match a gold edit
_INF = float("inf")


class M2Error(ValueError):
    """Bad input (file, line, count); the CLI prints it on one line and exits with status 2."""


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


# ----------------------------------------------------------------------------------------------
# Input
# ----------------------------------------------------------------------------------------------


def _decode(data: bytes, path: str) -> str:
    """UTF-8 (BOM allowed) or an error naming the file and line of the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise M2Error(f"{path}:{line}: invalid UTF-8 ({exc.reason} at byte {exc.start})") from None
    return text[1:] if text.startswith("\ufeff") else text


def _split_lines(text: str) -> list[str]:
    """Lines as ``readlines`` gives them (a final newline adds no empty line), CR/CRLF tolerated."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _parse_a_line(line: str, path: str, lineno: int, paragraph_tokens: list[str]) -> tuple[int, GoldEdit]:
    """``A start end|||type|||corr1||corr2|||required|||comment|||annotator`` as NUS reads it."""
    fields = line[2:].split("|||")
    if len(fields) < 6:
        raise M2Error(f"{path}:{lineno}: malformed A line (expected 6 '|||'-separated fields, got {len(fields)})")
    offsets = fields[0].split()
    try:
        if len(offsets) < 2:
            raise ValueError
        start, end = int(offsets[0]), int(offsets[1])
    except ValueError:
        raise M2Error(f"{path}:{lineno}: malformed A line (offsets {fields[0].strip()!r} are not two integers)") from None
    try:
        annotator = int(fields[5])
    except ValueError:
        raise M2Error(f"{path}:{lineno}: malformed A line (annotator id {fields[5].strip()!r} is not an integer)") from None
    if fields[1] == "noop":
        start = end = -1
    corrections = tuple("" if c == "-NONE-" else c.strip() for c in fields[2].split("||"))
    original = " ".join(paragraph_tokens[start:end])
    return annotator, GoldEdit(start, end, original, corrections)


def parse_m2(text: str, path: str = "<m2>") -> list[GoldSentence]:
    """Parse M2 text. ``I`` and ChERRANT ``T`` lines are ignored; edits that NUS drops are dropped.

    NUS semantics kept on purpose: ``noop`` edits and edits with negative or out-of-sentence
    offsets are not gold edits (yet their annotator still counts as an alternative), an
    annotator id repeated later in a block extends that annotator's list, and a block with
    several ``S`` lines yields one sentence per ``S`` line.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    sentences: list[GoldSentence] = []
    block: list[tuple[int, str]] = []

    def flush() -> None:
        if not block:
            return
        first_no, first = block[0]
        if not (first.startswith("S ") or first == "S"):
            raise M2Error(f"{path}:{first_no}: a block must start with an 'S' line, got {first[:40]!r}")
        s_lines = [(no, ln[2:].strip()) for no, ln in block if ln.startswith("S ") or ln == "S"]
        para_tokens = " ".join(s for _, s in s_lines).split()
        annotations: dict[int, list[GoldEdit]] = {}
        for no, ln in block[1:]:
            if ln.startswith("S ") or ln == "S" or ln.startswith("I ") or ln.startswith("T"):
                continue
            if not ln.startswith("A "):
                raise M2Error(f"{path}:{no}: unexpected line in M2 block (not S/A/T/I): {ln[:40]!r}")
            annotator, edit = _parse_a_line(ln, path, no, para_tokens)
            annotations.setdefault(annotator, []).append(edit)
        tok_offset = 0
        for no, sentence in s_lines:
            tok_offset += len(sentence.split())
            kept = tuple(
                (ann, tuple(e for e in edits if 0 <= e.start <= tok_offset and 0 <= e.end <= tok_offset))
                for ann, edits in sorted(annotations.items())
            )
            sentences.append(GoldSentence(sentence, kept or ((0, ()),), no))
        block.clear()

    for lineno, line in enumerate(_split_lines(text), start=1):
        if line.strip() == "":
            flush()
        else:
            block.append((lineno, line))
    flush()
    return sentences


def read_m2(path: str | os.PathLike[str]) -> list[GoldSentence]:
    """Read and parse an M2 gold file (UTF-8, BOM and CRLF accepted)."""
    path = os.fspath(path)
    with open(path, "rb") as handle:
        return parse_m2(_decode(handle.read(), path), path)


def read_hypotheses(path: str | os.PathLike[str]) -> list[str]:
    """One hypothesis per line, stripped; empty lines are valid (empty hypotheses)."""
    path = os.fspath(path)
    with open(path, "rb") as handle:
        return [line.strip() for line in _split_lines(_decode(handle.read(), path))]


# ----------------------------------------------------------------------------------------------
# Edit extraction (the NUS lattice, computed efficiently)
# ----------------------------------------------------------------------------------------------


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Longest common subsequence length, bit-parallel (Hyyro 2004); bounds the DP band."""
    masks: dict[str, int] = {}
    for j, tok in enumerate(b):
        masks[tok] = masks.get(tok, 0) | (1 << j)
    full = (1 << len(b)) - 1
    v = full
    for tok in a:
        u = v & masks.get(tok, 0)
        v = ((v + u) | (v - u)) & full
    return len(b) - v.bit_count()


@functools.lru_cache(maxsize=4096)
def _default_weight(dist: int, copies: int, noop: bool) -> float:
    """NUS weight of an edge matching no gold edit: its length, plus EPSILON once per copy of
    the edge in E unless it is a noop (added one at a time, as NUS's float sums go)."""
    w = float(dist)
    if not noop:
        for _ in range(copies):
            w += _EPSILON
    return w


class _LatticeTooLarge(Exception):
    """The closure exceeded the arc budget (a hypothesis unrelated to its source)."""


class _Lattice:
    """The merged NUS edit lattice of one sentence pair with its transitive arcs.

    Vertices are matrix cells ``(i, j)`` numbered in sorted order; an edge or arc is a pair id
    (``pid``). ``edges`` is NUS's final edge list ``E`` as pids: the sorted base edges, twice
    where both matrices have them, then the transitive arcs in creation order, one entry per
    append, minus the ``noop`` arcs NUS removes.
    """

    __slots__ = ("src", "hyp", "rows", "cols", "pu", "pv", "noop", "dist", "copies", "pair_of",
                 "edges", "default_w", "n_edges", "_spans")

    def __init__(self, src: list[str], hyp: list[str], max_unchanged: int, max_arcs: int | None = None) -> None:
        self.src, self.hyp = src, hyp
        n, m = len(src), len(hyp)
        width = m + 1
        base = _base_edges(src, hyp)
        codes_set = {0, n * width + m}
        for cu, cv in base:
            codes_set.add(cu)
            codes_set.add(cv)
        codes = sorted(codes_set)
        index = {c: k for k, c in enumerate(codes)}
        self.rows = [c // width for c in codes]
        self.cols = [c % width for c in codes]
        n_v = len(codes)

        blist = sorted([(index[cu], index[cv], mult, z) for (cu, cv), (mult, z) in base.items()])
        pu = [e[0] for e in blist]
        pv = [e[1] for e in blist]
        noop = [e[3] for e in blist]
        dist = [1] * len(blist)
        copies = [e[2] for e in blist]
        pair_of = {(e[0], e[1]): k for k, e in enumerate(blist)}
        edges = [k for k, e in enumerate(blist) for _ in range(e[2])]
        out: list[list[tuple[int, int]]] = [[] for _ in range(n_v)]
        inc: list[dict[int, tuple[int, int, bool]]] = [{} for _ in range(n_v)]
        for u, v, _, z in blist:
            out[u].append((v, 1 if z else 0))
            inc[v][u] = (1, 1 if z else 0, z)

        # Transitive arcs in NUS's own k, i, j order. When k is the intermediate, every arc into
        # k is final (its intermediates precede k) and every arc out of k is still a base edge
        # (its intermediates follow k), so one sweep over k reproduces each update and each
        # append. NUS afterwards deletes transitive noop arcs from E while iterating over E:
        # every deletion shifts the list and the next arc escapes; a noop arc is appended once
        # and never replaced (its diagonal predecessor is tried first and nothing is shorter),
        # so the walk can run here, on the appends as they happen.
        kept: list[tuple[int, int]] = []
        skip = False
        updates = 0
        limit = max_arcs if max_arcs is not None else -1
        for k in range(n_v):
            outs = out[k]
            ik = inc[k]
            if not outs or not ik:
                continue
            if 0 <= limit < updates:
                raise _LatticeTooLarge(updates)
            for i in sorted(ik) if len(ik) > 1 else ik:
                dk, nk, zk = ik[i]
                if nk > max_unchanged:
                    continue
                cand = dk + 1
                for v, z in outs:
                    nn = nk + z
                    if nn > max_unchanged:
                        continue
                    iv = inc[v]
                    cur = iv.get(i)
                    if cur is None or cand < cur[0]:
                        isz = zk and z == 1
                        iv[i] = (cand, nn, isz)
                        updates += 1
                        if skip:
                            kept.append((i, v))
                            skip = False
                        elif isz:
                            skip = True
                        else:
                            kept.append((i, v))
        for key in kept:
            pid = pair_of.get(key)
            if pid is None:
                i, v = key
                d, _, z = inc[v][i]
                pid = len(pu)
                pu.append(i)
                pv.append(v)
                noop.append(z)
                dist.append(d)
                copies.append(0)
                pair_of[key] = pid
            copies[pid] += 1
            edges.append(pid)

        default_w = [_default_weight(d, c, z) for d, c, z in zip(dist, copies, noop)]
        self.pu, self.pv, self.noop, self.dist, self.copies, self.pair_of = pu, pv, noop, dist, copies, pair_of
        self.edges, self.default_w, self.n_edges = edges, default_w, len(edges)
        self._spans: dict[tuple[int, int], list[int]] | None = None

    def edit(self, pid: int) -> tuple[int, int, str, str]:
        """(start, end, original, correction) of an edge: its two cells fix all four."""
        u, v = self.pu[pid], self.pv[pid]
        i1, i2 = self.rows[u], self.rows[v]
        return (i1, i2, " ".join(self.src[i1:i2]), " ".join(self.hyp[self.cols[u]:self.cols[v]]))

    def span_pids(self, span: tuple[int, int]) -> list[int]:
        """Pids whose edit covers source tokens ``span`` (NUS groups edges by this key)."""
        if self._spans is None:
            rows, spans = self.rows, {}
            for pid, (u, v) in enumerate(zip(self.pu, self.pv)):
                spans.setdefault((rows[u], rows[v]), []).append(pid)
            self._spans = spans
        return self._spans.get(span, [])

    def weights(self, gold: Sequence[GoldEdit]) -> dict[int, float]:
        """NUS ``set_weights`` for one annotator, as overrides of the gold-free default weights."""
        if not gold:
            return {}
        by_span: dict[tuple[int, int], list[GoldEdit]] = {}
        for g in gold:
            by_span.setdefault((g.start, g.end), []).append(g)
        neg = -self.n_edges
        over: dict[int, float] = {}
        for span, golds in by_span.items():
            pids = self.span_pids(span)
            if not pids:
                continue
            if span[0] != span[1]:
                for pid in pids:
                    _, _, orig, corr = self.edit(pid)
                    for g in golds:
                        if g.original == orig and corr in g.corrections:
                            over[pid] = float(neg)
                            break
                continue
            # Insertions: NUS's two-pointer walk over the sorted edges (copies included) that
            # lets each gold insertion match once and keeps insertion order; replayed verbatim.
            pu, pv = self.pu, self.pv
            items: list[int] = []
            for pid in sorted(pids, key=lambda p: (pu[p], pv[p])):
                items.extend([pid] * self.copies[pid])
            w: dict[int, float] = {pid: self.dist[pid] for pid in pids}
            lptr, rptr, cur = 0, len(items) - 1, 0
            g_l, g_r = 0, len(golds) - 1
            while lptr <= rptr:
                pid = items[cur]
                _, _, orig, corr = self.edit(pid)
                matched = False
                order = range(g_l, g_r + 1) if cur == lptr else range(g_r, g_l - 1, -1)
                for gi in order:
                    g = golds[gi]
                    if g.original == orig and corr in g.corrections:
                        matched = True
                        w[pid] = neg
                        if cur == lptr:
                            g_l = gi + 1
                        else:
                            g_r = gi - 1
                        break
                if not matched and not self.noop[pid]:
                    w[pid] += _EPSILON
                if matched:
                    if cur == lptr:
                        lptr += 1
                        while lptr < len(items) and pu[items[lptr]] != pv[items[cur]]:
                            w[items[lptr]] += _EPSILON
                            lptr += 1
                        cur = lptr
                    else:
                        rptr -= 1
                        while rptr >= 0 and pv[items[rptr]] != pu[items[cur]]:
                            w[items[rptr]] += _EPSILON
                            rptr -= 1
                        cur = rptr
                elif cur == lptr:
                    lptr += 1
                    cur = rptr
                else:
                    rptr -= 1
                    cur = lptr
            for pid, val in w.items():
                over[pid] = float(val)
        return over

    def best_path(self, over: dict[int, float]) -> list[int]:
        """NUS ``best_edit_seq_bf``: Bellman-Ford in E order (stopping once a pass changes
        nothing, which leaves what all |V|-1 passes leave), then the path's non-noop edges."""
        w = self.default_w
        if over:
            w = list(w)
            for pid, val in over.items():
                w[pid] = val
        n_v = len(self.rows)
        dist = [_INF] * n_v
        dist[0] = 0.0
        pred = [-1] * n_v
        pu, pv = self.pu, self.pv
        seq = [(pu[pid], pv[pid], w[pid]) for pid in self.edges]
        for _ in range(n_v - 1):
            changed = False
            for u, v, c in seq:
                nd = dist[u] + c
                if nd < dist[v]:
                    dist[v] = nd
                    pred[v] = u
                    changed = True
            if not changed:
                break
        path: list[int] = []
        v = n_v - 1
        pair_of, noop = self.pair_of, self.noop
        while pred[v] != -1:
            u = pred[v]
            pid = pair_of[(u, v)]
            if not noop[pid]:
                path.append(pid)
            v = u
        path.reverse()
        return path


def _base_edges(src: list[str], hyp: list[str]) -> dict[tuple[int, int], tuple[int, bool]]:
    """Edges on some shortest path of either Levenshtein matrix (substitution cost 1 and 2).

    Returns ``{(code_u, code_v): (multiplicity, is_noop)}`` with cell code ``i * (m + 1) + j``;
    multiplicity 2 means both matrices have the edge (NUS then lists it twice).

    A common prefix of length ``a`` and suffix of length ``b`` change no distance, so inside the
    core rectangle the forward and backward costs equal those of the core pair alone. If, in
    both matrices, the core's shortest paths touch its first row and column only at the start
    corner and its last row and column only at the end corner, every shortest path of the whole
    pair runs through both corners and the affixes contribute just their noop diagonals.
    Otherwise the window is widened (down to the whole pair) and the core recomputed.
    """
    n, m = len(src), len(hyp)
    width = m + 1
    lim = min(n, m)
    p = 0
    while p < lim and src[p] == hyp[p]:
        p += 1
    q = 0
    while q < lim - p and src[n - 1 - q] == hyp[m - 1 - q]:
        q += 1
    margin_a = margin_b = 1
    while True:
        a, b = max(0, p - margin_a), max(0, q - margin_b)
        edges, ok_start, ok_end = _core_edges(src[a:n - b], hyp[a:m - b], a, width)
        if (ok_start or a == 0) and (ok_end or b == 0):
            break
        if not ok_start:
            margin_a = 2 * margin_a + 2
        if not ok_end:
            margin_b = 2 * margin_b + 2
    for k in range(a):
        edges[(k * width + k, (k + 1) * width + k + 1)] = (2, True)
    for k in range(b):
        c = (n - b + k) * width + (m - b + k)
        edges[(c, c + width + 1)] = (2, True)
    return edges


def _core_edges(src: list[str], hyp: list[str], shift: int,
                width: int) -> tuple[dict[tuple[int, int], tuple[int, bool]], bool, bool]:
    """Shortest-path edges of both matrices of ``src`` vs ``hyp``, as codes of the whole pair
    (cells shifted by ``shift`` on both axes, row length ``width``), and whether the paths touch
    the first row/column only at (0, 0) and the last row/column only at (n, m).

    Only the band of diagonals a shortest path can visit is filled: a cell (i, j) on one costs
    at least |j - i| + |(m - n) - (j - i)|, which cannot exceed the indel distance n + m - 2 LCS
    (an upper bound of both distances). Cells outside stay infinite, which leaves the values
    and cheapest steps of every on-path cell exact. Row i stores cell j at t = j - i - dlo, so
    the diagonal predecessor has the same t, the upper one t + 1 and the left one t - 1; a
    sentinel at index W serves t + 1 == W and t - 1 == -1.
    """
    n, m = len(src), len(hyp)
    d2 = n + m - 2 * _lcs_length(src, hyp)
    delta = m - n
    slack = (d2 - abs(delta)) // 2
    dlo = min(0, delta) - slack
    W = max(0, delta) + slack - dlo + 1
    big = n + m + 10
    first = [big] * (W + 1)
    for t in range(W):
        if 0 <= dlo + t <= m:
            first[t] = dlo + t
    f1, f2 = [first], [list(first)]
    p1, p2 = first, f2[0]
    for i in range(1, n + 1):
        c1 = [big] * (W + 1)
        c2 = [big] * (W + 1)
        off = i + dlo
        tlo = -off if off < 0 else 0
        thi = m - off if m - off < W - 1 else W - 1
        if off + tlo == 0 and tlo <= thi:
            c1[tlo] = c2[tlo] = i
            tlo += 1
        a = src[i - 1]
        for t in range(tlo, thi + 1):
            if a == hyp[off + t - 1]:
                s1 = p1[t]
                s2 = p2[t]
            else:
                s1 = p1[t] + 1
                s2 = p2[t] + 2
            x = p1[t + 1] + 1
            if x < s1:
                s1 = x
            x = c1[t - 1] + 1
            if x < s1:
                s1 = x
            c1[t] = s1
            x = p2[t + 1] + 1
            if x < s2:
                s2 = x
            x = c2[t - 1] + 1
            if x < s2:
                s2 = x
            c2[t] = s2
        f1.append(c1)
        f2.append(c2)
        p1, p2 = c1, c2

    edges: dict[tuple[int, int], tuple[int, bool]] = {}
    ok_start = ok_end = True
    for f, sub_cost in ((f1, 1), (f2, 2)):
        marks = [bytearray(W + 1) for _ in range(n + 1)]
        marks[n][m - n - dlo] = 1
        for i in range(n, -1, -1):
            mk, row = marks[i], f[i]
            off = i + dlo
            tlo = -off if off < 0 else 0
            thi = m - off if m - off < W - 1 else W - 1
            code0 = (i + shift) * width + off + shift
            if i:
                up, upm, a = f[i - 1], marks[i - 1], src[i - 1]
            for t in range(thi, tlo - 1, -1):
                if not mk[t]:
                    continue
                val = row[t]
                j = off + t
                if i == 0 or j == 0:
                    if i or j:
                        ok_start = False
                if i == n or j == m:
                    if i != n or j != m:
                        ok_end = False
                code = code0 + t
                if i:
                    if j:
                        same = a == hyp[j - 1]
                        if up[t] + (0 if same else sub_cost) == val:
                            key = (code - width - 1, code)
                            edges[key] = (2, same) if key in edges else (1, same)
                            upm[t] = 1
                    if up[t + 1] + 1 == val:
                        key = (code - width, code)
                        edges[key] = (2, False) if key in edges else (1, False)
                        upm[t + 1] = 1
                if j and row[t - 1] + 1 == val:
                    key = (code - 1, code)
                    edges[key] = (2, False) if key in edges else (1, False)
                    mk[t - 1] = 1
    return edges, ok_start, ok_end


def _ignorable(edit: tuple[int, int, str, str]) -> bool:
    """NUS ``--ignore_whitespace_casing``: an edit that only changes spaces or letter case."""
    return edit[2].replace(" ", "").lower() == edit[3].replace(" ", "").lower()


def _match(edits: Sequence[tuple[int, int, str, str]], gold: Sequence[GoldEdit]) -> list[tuple[int, int, str, str]]:
    """NUS ``matchSeq``: gold edits are consumed in file order; a system edit counts once for
    each gold edit it matches in the remaining range (duplicate gold edits count twice)."""
    correct: list[tuple[int, int, str, str]] = []
    last = 0
    for e in edits:
        stop = len(gold)
        for i in range(last, stop):
            g = gold[i]
            if e[0] == g.start and e[1] == g.end and e[2] == g.original and e[3] in g.corrections:
                correct.append(e)
                last = i + 1
    return correct


# ----------------------------------------------------------------------------------------------
# Statistics and scores
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnotatorStats:
    """Sufficient statistics of one sentence against one annotator, with the edits behind them."""

    annotator: int
    correct: int
    proposed: int
    gold: int
    edits: tuple[tuple[int, int, str, str], ...] = ()
    correct_edits: tuple[tuple[int, int, str, str], ...] = ()
    gold_edits: tuple[GoldEdit, ...] = ()


@dataclass(frozen=True)
class SentenceResult:
    """Per-annotator statistics of one sentence and the annotator kept by corpus scoring."""

    source: str
    hypothesis: str
    candidates: tuple[AnnotatorStats, ...]
    chosen: int = 0
    #: scored without merged edits because its lattice exceeded the budget (``oversized="unmerged"``)
    unmerged: bool = False

    @property
    def stats(self) -> AnnotatorStats:
        return self.candidates[self.chosen]


def _f_running(c: float, e: float, g: float, beta: float) -> float:
    """NUS ``comp_f1`` on running totals (float arithmetic kept in NUS's order)."""
    try:
        return (1 + beta * beta) * c / (beta * beta * g + e)
    except ZeroDivisionError:
        return 1.0 if c == 0.0 else 0.0


def _prf(correct: float, proposed: float, gold: float, beta: float) -> tuple[float, float, float]:
    """NUS final P/R/F: P = 1 with nothing proposed, R = 1 with nothing to find, F from P and R."""
    p = correct / proposed if proposed else 1.0
    r = correct / gold if gold else 1.0
    try:
        f = (1.0 + beta * beta) * p * r / (beta * beta * p + r)
    except ZeroDivisionError:
        f = 0.0
    return p, r, f


@dataclass(frozen=True)
class M2Score:
    """A corpus M2 score: counts, P/R/F_beta and the signature of the settings that produced it."""

    precision: float
    recall: float
    f: float
    beta: float
    correct: int
    proposed: int
    gold: int
    sentences: int
    signature: str
    unmerged_sentences: int = 0

    def format(self) -> str:
        """The NUS scorer's three lines."""
        return (f"Precision   : {self.precision:.4f}\n"
                f"Recall      : {self.recall:.4f}\n"
                f"F_{self.beta:.1f}       : {self.f:.4f}")

    def to_dict(self) -> dict[str, object]:
        return {"precision": self.precision, "recall": self.recall, "f": self.f, "beta": self.beta,
                "correct": self.correct, "proposed": self.proposed, "gold": self.gold,
                "sentences": self.sentences, "unmerged_sentences": self.unmerged_sentences,
                "signature": self.signature}


@dataclass
class M2Scorer:
    """MaxMatch scorer; ``corpus_score`` gives NUS-identical totals, ``sentence_stats`` the parts."""

    beta: float = 0.5
    max_unchanged_words: int = 2
    ignore_whitespace_casing: bool = False
    #: Budget of merged-edit arcs per sentence. A hypothesis unrelated to its source puts almost
    #: every cell on a shortest path; NUS's closure is then quadratic in cells and its run cubic
    #: (hours for one long sentence). Beyond the budget scoring stops with an M2Error instead of
    #: exhausting memory; ``None`` removes the limit. Never reached by ordinary system output.
    max_lattice_arcs: int | None = 2_000_000
    #: What to do with a sentence over the budget: ``error`` (stop, the default) or ``unmerged``
    #: (score it with ``max_unchanged_words=0``, i.e. without merging edits across unchanged
    #: tokens, count it, and mark the signature). ``unmerged`` keeps early, degenerate checkpoints
    #: scorable; the count tells how far the figure is from the NUS one.
    oversized: str = "error"

    def __post_init__(self) -> None:
        if self.oversized not in OVERSIZED_POLICIES:
            raise M2Error(f"oversized must be one of {', '.join(OVERSIZED_POLICIES)}, got {self.oversized!r}")
        if not (math.isfinite(self.beta) and self.beta > 0):
            raise M2Error(f"beta must be a positive number, got {self.beta}")
        if self.max_unchanged_words < 0:
            raise M2Error(f"max_unchanged_words must be >= 0, got {self.max_unchanged_words}")
        if self.max_lattice_arcs is not None and self.max_lattice_arcs < 0:
            raise M2Error(f"max_lattice_arcs must be >= 0 or None, got {self.max_lattice_arcs}")

    @property
    def signature(self) -> str:
        return (f"m2|beta:{self.beta:g}|max_unchanged:{self.max_unchanged_words}"
                f"|ws_case:{'ignored' if self.ignore_whitespace_casing else 'kept'}"
                f"|tok:space|annotator:cumulative"
                f"{'|oversized:unmerged' if self.oversized == 'unmerged' else ''}"
                f"|version:nus3.2-tlm{SCORER_VERSION}")

    def sentence_stats(self, hypothesis: str, gold: GoldSentence) -> tuple[AnnotatorStats, ...]:
        """Statistics of one hypothesis against each annotator of its gold sentence."""
        return self._sentence_stats(hypothesis, gold)[0]

    def _sentence_stats(self, hypothesis: str, gold: GoldSentence) -> tuple[tuple[AnnotatorStats, ...], bool]:
        """The statistics, and whether the sentence was scored without merged edits."""
        src, hyp = gold.source.split(), hypothesis.split()
        results: list[AnnotatorStats] = []
        unmerged = False
        if src == hyp:  # the lattice is the diagonal of noops: nothing is proposed
            for ann, edits in gold.annotations:
                results.append(AnnotatorStats(ann, 0, 0, len(edits), (), (), edits))
            return tuple(results), unmerged
        try:
            lattice = _Lattice(src, hyp, self.max_unchanged_words, self.max_lattice_arcs)
        except _LatticeTooLarge as exc:
            if self.oversized != "unmerged":
                raise M2Error(
                    f"gold line {gold.line}: the edit lattice of this hypothesis needs over {exc.args[0]} merged "
                    f"edits ({len(src)} source vs {len(hyp)} hypothesis tokens, hardly related); the NUS scorer "
                    f"would take hours on it; raise max_lattice_arcs (--max-lattice-arcs) to score it anyway, "
                    f"or score it without merged edits (--oversized unmerged)") from None
            lattice, unmerged = _Lattice(src, hyp, 0, None), True
        paths: dict[tuple, list[int]] = {}
        for ann, edits in gold.annotations:
            over = lattice.weights(edits)
            key = tuple(sorted(over.items()))
            path = paths.get(key)
            if path is None:
                path = paths[key] = lattice.best_path(over)
            seq = [lattice.edit(pid) for pid in path]
            if self.ignore_whitespace_casing:
                seq = [e for e in seq if not _ignorable(e)]
            correct = _match(seq, edits)
            results.append(AnnotatorStats(ann, len(correct), len(seq), len(edits), tuple(seq), tuple(correct), edits))
        return tuple(results), unmerged

    def score_sentences(self, hypotheses: Sequence[str], gold: Sequence[GoldSentence]) -> list[SentenceResult]:
        """Per-sentence statistics with the annotator chosen as NUS does (on running totals)."""
        if len(hypotheses) != len(gold):
            raise M2Error(f"hypothesis count ({len(hypotheses)}) differs from gold sentence count ({len(gold)})")
        out: list[SentenceResult] = []
        tc = tp = tg = 0.0
        sq = self.beta * self.beta
        for hyp, g in zip(hypotheses, gold):
            cands, unmerged = self._sentence_stats(hyp, g)
            best_f, best_c, best_p, best_g, chosen = -1.0, -1.0, _INF, _INF, 0
            for k, st in enumerate(cands):
                c, p, gg = tc + st.correct, tp + st.proposed, tg + st.gold
                f = _f_running(c, p, gg, self.beta)
                if (best_f < f or (best_f == f and best_c < c)
                        or (best_f == f and best_c == c and best_p + sq * best_g > p + sq * gg)):
                    best_f, best_c, best_p, best_g, chosen = f, c, p, gg, k
            st = cands[chosen]
            tc, tp, tg = tc + st.correct, tp + st.proposed, tg + st.gold
            out.append(SentenceResult(g.source, hyp, cands, chosen, unmerged))
        return out

    def score_from_results(self, results: Iterable[SentenceResult]) -> M2Score:
        """Sum the chosen statistics and turn them into P/R/F."""
        c = p = g = n = unmerged = 0
        for r in results:
            st = r.stats
            c, p, g, n = c + st.correct, p + st.proposed, g + st.gold, n + 1
            unmerged += r.unmerged
        prec, rec, f = _prf(float(c), float(p), float(g), self.beta)
        return M2Score(prec, rec, f, self.beta, c, p, g, n, self.signature, unmerged)

    def corpus_score(self, hypotheses: Sequence[str], gold: Sequence[GoldSentence]) -> M2Score:
        """Corpus-level M2 of hypotheses (one string per gold sentence) against parsed gold."""
        return self.score_from_results(self.score_sentences(hypotheses, gold))


def corpus_m2(hypotheses: Sequence[str], gold: Sequence[GoldSentence], beta: float = 0.5,
              max_unchanged_words: int = 2, ignore_whitespace_casing: bool = False) -> M2Score:
    """Convenience wrapper: ``M2Scorer(...).corpus_score(hypotheses, gold)``."""
    return M2Scorer(beta, max_unchanged_words, ignore_whitespace_casing).corpus_score(hypotheses, gold)


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


def _fmt_edit(e: tuple[int, int, str, str]) -> str:
    return f"({e[0]}, {e[1]}, {e[2]!r}, {e[3]!r})"


def _fmt_gold(g: GoldEdit) -> str:
    return f"({g.start}, {g.end}, {g.original!r}, {list(g.corrections)!r})"


def _verbose(results: Sequence[SentenceResult], scorer: M2Scorer, out: TextIO) -> None:
    """Per-sentence details in the spirit of NUS ``-v`` (running totals per annotator)."""
    tc = tp = tg = 0
    for i, r in enumerate(results, start=1):
        for st in r.candidates:
            c, p, g = tc + st.correct, tp + st.proposed, tg + st.gold
            prec, rec, _ = _prf(c, p, g, scorer.beta)
            print(f">> Annotator: {st.annotator}", file=out)
            print(f"SOURCE        : {r.source}", file=out)
            print(f"HYPOTHESIS    : {r.hypothesis}", file=out)
            print(f"EDIT SEQ      : [{', '.join(map(_fmt_edit, st.edits))}]", file=out)
            print(f"GOLD EDITS    : [{', '.join(map(_fmt_gold, st.gold_edits))}]", file=out)
            print(f"CORRECT EDITS : [{', '.join(map(_fmt_edit, st.correct_edits))}]", file=out)
            print(f"# correct     : {c}", file=out)
            print(f"# proposed    : {p}", file=out)
            print(f"# gold        : {g}", file=out)
            print(f"precision     : {prec}", file=out)
            print(f"recall        : {rec}", file=out)
            print(f"f_{scorer.beta:.1f}         : {_f_running(c, p, g, scorer.beta)}", file=out)
            print("-------------------------------------------", file=out)
        st = r.stats
        tc, tp, tg = tc + st.correct, tp + st.proposed, tg + st.gold
        print(f">> Chosen Annotator for line {i} : {st.annotator}", file=out)
        print("", file=out)
    print(f"CORRECT EDITS  : {tc}", file=out)
    print(f"PROPOSED EDITS : {tp}", file=out)
    print(f"GOLD EDITS     : {tg}", file=out)


def _build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="tlm-m2",
        description="MaxMatch (M2) scorer, result-identical to the NUS M2 scorer 3.2 and much faster.")
    ap.add_argument("system", help="system output, one tokenized sentence per line")
    ap.add_argument("gold", help="M2 file: source sentences with gold edits")
    ap.add_argument("--beta", type=float, default=0.5, help="beta of F_beta (default 0.5)")
    ap.add_argument("--max-unchanged-words", type=int, default=2,
                    help="unchanged tokens a merged edit may span (default 2)")
    ap.add_argument("--ignore-whitespace-casing", action="store_true",
                    help="drop system edits that only change whitespace or casing")
    ap.add_argument("--max-lattice-arcs", type=int, default=2_000_000,
                    help="per-sentence budget of merged edits; 0 means unlimited (default 2000000)")
    ap.add_argument("--oversized", choices=OVERSIZED_POLICIES, default="error",
                    help="a sentence over the budget: stop with an error (default), or score it without "
                         "merging edits across unchanged tokens and report how many were (unmerged)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print per-sentence details first")
    ap.add_argument("--json", action="store_true", help="print a JSON object instead of the three lines")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """``tlm-m2 SYSTEM GOLD_M2``: prints P/R/F (or JSON); bad input exits 2 with one line."""
    args = _build_parser().parse_args(argv)
    try:
        scorer = M2Scorer(args.beta, args.max_unchanged_words, args.ignore_whitespace_casing,
                          args.max_lattice_arcs or None, args.oversized)
        gold = read_m2(args.gold)
        hyps = read_hypotheses(args.system)
        if len(hyps) != len(gold):
            raise M2Error(f"{args.system} has {len(hyps)} hypotheses but {args.gold} has {len(gold)} sentences")
        results = scorer.score_sentences(hyps, gold)
    except (M2Error, OSError) as exc:
        if isinstance(exc, M2Error) or not exc.filename:
            msg = str(exc)
        else:
            msg = f"{exc.filename}: {exc.strerror}"
        print(f"tlm-m2: error: {msg}", file=sys.stderr)
        return 2
    score = scorer.score_from_results(results)
    if score.unmerged_sentences:
        print(f"tlm-m2: warning: {score.unmerged_sentences} sentence(s) exceeded --max-lattice-arcs and were "
              f"scored without merged edits; the figures are not NUS-identical for them", file=sys.stderr)
    if args.verbose:
        _verbose(results, scorer, sys.stdout)
    if args.json:
        print(json.dumps(score.to_dict(), ensure_ascii=False))
    else:
        print(score.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
