"""The NUS edit lattice of one sentence pair, computed efficiently (the scorer's hot path).

Dahlmeier and Ng (NAACL 2012) score a hypothesis by extracting, from the Levenshtein edit lattice
between source and hypothesis tokens, the edit sequence that agrees most with the gold edits. The
NUS scorer builds that lattice for every sentence as a dict graph and runs an O(V^3) transitive
closure and an O(V*E) Bellman-Ford on it, which costs tens of seconds on a 2000-sentence test set.
This module computes *the same* edit sequences, tie-breaking and floating-point weights included,
but:

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

The DP rows below are unrolled by hand on purpose: this is where scoring spends its time.
"""
from __future__ import annotations

import functools
from typing import Sequence

from .gold import GoldEdit

EPSILON = 0.001  # NUS: weight added to every edge that does not match a gold edit
INF = float("inf")


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
            w += EPSILON
    return w


class LatticeTooLarge(Exception):
    """The closure exceeded the arc budget (a hypothesis unrelated to its source)."""


class Lattice:
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
        base = base_edges(src, hyp)
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
                raise LatticeTooLarge(updates)
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
                    w[pid] += EPSILON
                if matched:
                    if cur == lptr:
                        lptr += 1
                        while lptr < len(items) and pu[items[lptr]] != pv[items[cur]]:
                            w[items[lptr]] += EPSILON
                            lptr += 1
                        cur = lptr
                    else:
                        rptr -= 1
                        while rptr >= 0 and pv[items[rptr]] != pu[items[cur]]:
                            w[items[rptr]] += EPSILON
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
        dist = [INF] * n_v
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


def base_edges(src: list[str], hyp: list[str]) -> dict[tuple[int, int], tuple[int, bool]]:
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
        edges, ok_start, ok_end = core_edges(src[a:n - b], hyp[a:m - b], a, width)
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


def core_edges(src: list[str], hyp: list[str], shift: int,
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

