"""A direct restatement of the NUS M2 scorer 3.2 algorithm: the oracle of the M2 tests and benchmark.

It follows NUS (Dahlmeier and Ng, NAACL 2012; ``levenshtein.py``) step by step in plain Python with
a dict-based graph, quirks included: two Levenshtein matrices (substitution cost 1 and 2) whose
shortest-path lattices are merged with duplicated edges, an O(V^3) transitive closure that merges
edits across up to ``max_unchanged_words`` unchanged tokens, removal of transitive ``noop`` arcs
from a list being iterated, gold-favouring edge weights (with the two-pointer rule for
insertions), Bellman-Ford with all |V|-1 passes, in-order matching, and the per-sentence annotator
that maximises F_beta of the running totals. It is written for fidelity, not speed. With it:
realistic hypotheses for a gold file (:func:`make_hypotheses`) and a side-by-side run that raises
on any per-sentence difference (:func:`compare`), used by ``tests/test_m2.py`` and
``benchmarks/bench_m2.py``.
"""
from __future__ import annotations

import random
import time
from copy import deepcopy
from typing import Sequence

from tlm_fairseq.scoring.m2 import GoldSentence, M2Scorer

INF = float("inf")
EPSILON = 0.001

# ------------------------------------------------------------------------------------------------
# Reference implementation (NUS M2 3.2 semantics, dict graph, no shortcuts)
# ------------------------------------------------------------------------------------------------

Edit = tuple  # (type, start, end, original, correction, unchanged_count)


def ref_levenshtein(first: Sequence[str], second: Sequence[str], sub_cost: int):
    """Full edit-distance matrix and, per cell, every predecessor on a cheapest step."""
    rows, cols = len(first) + 1, len(second) + 1
    mat = [[0] * cols for _ in range(rows)]
    back: dict = {}
    for i in range(1, rows):
        mat[i][0] = i
        back[(i, 0)] = [((i - 1, 0), ("del", i - 1, i, first[i - 1], "", 0))]
    for j in range(1, cols):
        mat[0][j] = j
        back[(0, j)] = [((0, j - 1), ("ins", 0, 0, "", second[j - 1], 0))]  # NUS inserts at 0
    for i in range(1, rows):
        for j in range(1, cols):
            same = first[i - 1] == second[j - 1]
            diag = mat[i - 1][j - 1] + (0 if same else sub_cost)
            up = mat[i - 1][j] + 1
            left = mat[i][j - 1] + 1
            low = min(diag, up, left)
            mat[i][j] = low
            cell = []
            if diag == low:
                kind = "noop" if same else "sub"
                cell.append(((i - 1, j - 1), (kind, i - 1, i, first[i - 1], second[j - 1], 1 if same else 0)))
            if up == low:
                cell.append(((i - 1, j), ("del", i - 1, i, first[i - 1], "", 0)))
            if left == low:
                cell.append(((i, j - 1), ("ins", i, i, "", second[j - 1], 0)))
            back[(i, j)] = cell
    return mat, back


def ref_edit_graph(mat, back):
    """Breadth-first walk back from the last cell along cheapest steps: the lattice."""
    V: list = []
    E: list = []
    dist: dict = {}
    edits: dict = {}
    queue = [(len(mat) - 1, len(mat[0]) - 1)]
    while queue:
        v = queue.pop(0)
        if v in V:
            continue
        V.append(v)
        for prev, edit in back.get(v, []):
            E.append((prev, v))
            dist[(prev, v)] = 1
            edits[(prev, v)] = edit
            if prev not in queue:
                queue.append(prev)
    return V, E, dist, edits


def ref_merge_graph(g1, g2):
    """Union of the two lattices. NUS keeps every edge of the second lattice (its duplicate
    test looks in the vertex list), so edges present in both appear twice in E."""
    V1, E1, dist1, edits1 = g1
    V2, E2, dist2, edits2 = g2
    V = deepcopy(V1)  # NUS deep-copies the first lattice's tables, as here
    V.extend(v for v in V2 if v not in V1)
    V = sorted(V)
    E = sorted(E1 + E2)
    dist = deepcopy(dist1)
    for key, value in dist2.items():
        dist.setdefault(key, value)
    edits = deepcopy(edits1)
    for key, value in edits2.items():
        edits.setdefault(key, value)
    return V, E, dist, edits


# (type1, type2) -> merged type; strings are concatenated with a space when both sides have one
_MERGED_TYPE = {
    ("ins", "ins"): "ins", ("ins", "del"): "sub", ("ins", "sub"): "sub", ("ins", "noop"): "sub",
    ("del", "ins"): "sub", ("del", "del"): "del", ("del", "sub"): "sub", ("del", "noop"): "sub",
    ("sub", "ins"): "sub", ("sub", "del"): "sub", ("sub", "sub"): "sub", ("sub", "noop"): "sub",
    ("noop", "ins"): "sub", ("noop", "del"): "sub", ("noop", "sub"): "sub", ("noop", "noop"): "noop",
}


def _join(a: str, b: str) -> str:
    return a + " " + b if a and b else a or b


def ref_merge_edits(e1: Edit, e2: Edit) -> Edit:
    """One edit covering two consecutive ones; unchanged-token counts add up."""
    kind = _MERGED_TYPE[(e1[0], e2[0])]
    return (kind, e1[1], e2[2], _join(e1[3], e2[3]), _join(e1[4], e2[4]), e1[5] + e2[5])


def ref_transitive_arcs(V, E, dist, edits, max_unchanged: int):
    """Floyd-Warshall-style closure over V (in order k, i, j), then NUS's noop-arc removal."""
    for vk in V:
        for vi in V:
            if (vi, vk) not in edits:
                continue
            for vj in V:
                if (vk, vj) not in edits:
                    continue
                through = dist.get((vi, vk), INF) + dist.get((vk, vj), INF)
                if through < dist.get((vi, vj), INF):
                    merged = ref_merge_edits(edits[(vi, vk)], edits[(vk, vj)])
                    if merged[5] <= max_unchanged:
                        E.append((vi, vj))
                        dist[(vi, vj)] = through
                        edits[(vi, vj)] = merged
    for edge in E:  # deleting from the list being iterated, exactly as the original does
        if edits[edge][0] == "noop" and dist[edge] > 1:
            E.remove(edge)
            dist[edge] = INF
            del edits[edge]
    return V, E, dist, edits


def _gold_match(edit: Edit, gold) -> bool:
    return edit[1] == gold[0] and edit[2] == gold[1] and edit[3] == gold[2] and edit[4] in gold[3]


def ref_set_weights(E, dist, edits, gold_edits):
    """Gold-matching edges get weight -len(E), others +EPSILON; insertions matched in order.
    (Works on deep copies of the gold edits and of the distance table, as NUS does.)"""
    gold_edits = deepcopy(gold_edits)
    weights = deepcopy(dist)
    M: dict = {}
    G: dict = {}
    for edge in E:
        span = (edits[edge][1], edits[edge][2])
        M.setdefault(span, []).append(edge)
        G.setdefault(span, [])
    for gold in gold_edits:
        G.setdefault((gold[0], gold[1]), []).append(gold)
    for span in sorted(M):
        group = sorted(M[span])
        golds = G[span]
        if span[0] != span[1]:
            for edge in group:
                if any(_gold_match(edits[edge], g) for g in golds):
                    weights[edge] = -len(E)
                elif edits[edge][0] != "noop":
                    weights[edge] += EPSILON
            continue
        lptr, rptr = 0, len(group) - 1
        cur = lptr
        g_l, g_r = 0, len(golds) - 1
        while lptr <= rptr:
            edge = group[cur]
            from_left = cur == lptr
            order = range(g_l, g_r + 1) if from_left else reversed(range(g_l, g_r + 1))
            matched = False
            for gi in order:
                if _gold_match(edits[edge], golds[gi]):
                    matched = True
                    weights[edge] = -len(E)
                    if from_left:
                        g_l = gi + 1
                    else:
                        g_r = gi - 1
                    break
            if not matched and edits[edge][0] != "noop":
                weights[edge] += EPSILON
            if matched:
                if from_left:
                    lptr += 1
                    while lptr < len(group) and group[lptr][0] != group[cur][1]:
                        weights[group[lptr]] += EPSILON
                        lptr += 1
                    cur = lptr
                else:
                    rptr -= 1
                    while rptr >= 0 and group[rptr][1] != group[cur][0]:
                        weights[group[rptr]] += EPSILON
                        rptr -= 1
                    cur = rptr
            elif from_left:
                lptr += 1
                cur = rptr
            else:
                rptr -= 1
                cur = lptr
    return weights


def ref_best_edit_seq(V, E, weights, edits):
    """Bellman-Ford from (0, 0) with all |V|-1 passes; the path's edits, last edit first."""
    best = {v: INF for v in V}
    best[(0, 0)] = 0
    pred: dict = {}
    for _ in range(len(V) - 1):
        for edge in E:
            a, b = edge
            if best[a] + weights[edge] < best[b]:
                best[b] = best[a] + weights[edge]
                pred[b] = a
    v = sorted(V)[-1]
    seq = []
    while v in pred:
        a = pred[v]
        edit = edits[(a, v)]
        if edit[0] != "noop":
            seq.append(edit[1:5])
        v = a
    return seq


def ref_match(edit_seq, gold_edits):
    """In-order matching; no break after a match, so duplicate gold edits count twice."""
    gold_edits = deepcopy(gold_edits)
    correct = []
    last = 0
    for e in reversed(edit_seq):
        for i in range(last, len(gold_edits)):
            g = gold_edits[i]
            if e[0] == g[0] and e[1] == g[1] and e[2] == g[2] and e[3] in g[3]:
                correct.append(e)
                last = i + 1
    return correct


def ref_sentence(candidate: str, source: str, golds: dict, max_unchanged: int = 2,
                 ignore_whitespace_casing: bool = False) -> list[tuple[int, int, int, int]]:
    """(annotator, correct, proposed, gold) for each annotator of one sentence."""
    cand, src = candidate.split(), source.split()
    g1 = ref_edit_graph(*ref_levenshtein(src, cand, 1))
    g2 = ref_edit_graph(*ref_levenshtein(src, cand, 2))
    V, E, dist, edits = ref_transitive_arcs(*ref_merge_graph(g1, g2), max_unchanged)
    out = []
    for annotator, gold in golds.items():
        weights = ref_set_weights(E, dist, edits, gold)
        seq = ref_best_edit_seq(V, E, weights, edits)
        if ignore_whitespace_casing:
            seq = [e for e in seq if e[2].replace(" ", "").lower() != e[3].replace(" ", "").lower()]
        out.append((annotator, len(ref_match(seq, gold)), len(seq), len(gold)))
    return out


def ref_corpus(candidates: Sequence[str], sources: Sequence[str], gold_sets: Sequence[dict],
               max_unchanged: int = 2, beta: float = 0.5, ignore_whitespace_casing: bool = False):
    """Per-sentence chosen (annotator, correct, proposed, gold) and the NUS P, R, F."""
    total_c = total_p = total_g = 0.0
    chosen_rows = []
    sq = beta * beta
    for cand, src, golds in zip(candidates, sources, gold_sets):
        f_max, c_max, p_min, g_min, pick = -1.0, -1.0, INF, INF, None
        for row in ref_sentence(cand, src, golds, max_unchanged, ignore_whitespace_casing):
            _, c, p, g = row
            c, p, g = total_c + c, total_p + p, total_g + g
            try:
                f = (1 + sq) * c / (sq * g + p)
            except ZeroDivisionError:
                f = 1.0 if c == 0.0 else 0.0
            if f_max < f or (f_max == f and c_max < c) or (f_max == f and c_max == c and p_min + sq * g_min > p + sq * g):
                f_max, c_max, p_min, g_min, pick = f, c, p, g, row
        total_c += pick[1]
        total_p += pick[2]
        total_g += pick[3]
        chosen_rows.append(pick)
    p = total_c / total_p if total_p else 1.0
    r = total_c / total_g if total_g else 1.0
    try:
        f = (1.0 + sq) * p * r / (sq * p + r)
    except ZeroDivisionError:
        f = 0.0
    return chosen_rows, (p, r, f)


def nus_gold(sentence: GoldSentence) -> dict:
    """The NUS in-memory form of one gold sentence: {annotator: [(start, end, orig, [corr])]}."""
    return {ann: [(e.start, e.end, e.original, list(e.corrections)) for e in edits]
            for ann, edits in sentence.annotations}


# ------------------------------------------------------------------------------------------------
# Realistic hypotheses
# ------------------------------------------------------------------------------------------------


def apply_edits(tokens: Sequence[str], edits: Sequence[tuple[int, int, str]]) -> list[str]:
    """Apply (start, end, correction) edits left to right, skipping any that overlap a kept one."""
    out: list[str] = []
    cursor = 0
    for start, end, corr in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < cursor or end < start or end > len(tokens):
            continue
        out.extend(tokens[cursor:start])
        out.extend(corr.split())
        cursor = end
    out.extend(tokens[cursor:])
    return out


def make_hypotheses(gold: Sequence[GoldSentence], kind: str, seed: int = 1234) -> list[str]:
    """``source``, ``target0`` (first annotator's edits applied) or ``noisy`` (a random subset of
    one annotator's edits, random alternatives, plus 0-3 random token deletions, insertions,
    substitutions, repetitions or swaps), deterministic for a seed."""
    if kind == "source":
        return [g.source for g in gold]
    if kind == "target0":
        return [" ".join(apply_edits(g.tokens, [(e.start, e.end, e.corrections[0]) for e in g.annotations[0][1]]))
                for g in gold]
    if kind != "noisy":
        raise ValueError(f"unknown hypothesis kind {kind!r}")
    rng = random.Random(seed)
    vocab = sorted({t for g in gold for t in g.tokens})
    hyps = []
    for g in gold:
        _, edits = g.annotations[rng.randrange(len(g.annotations))]
        chosen = [(e.start, e.end, rng.choice(e.corrections)) for e in edits if rng.random() < 0.6]
        toks = apply_edits(g.tokens, chosen)
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            op = rng.choice(("del", "ins", "sub", "rep", "swap"))
            pos = rng.randrange(len(toks) + 1)
            if op == "ins" or not toks:
                toks.insert(pos, rng.choice(vocab))
                continue
            pos = min(pos, len(toks) - 1)
            if op == "del":
                del toks[pos]
            elif op == "sub":
                toks[pos] = rng.choice(vocab)
            elif op == "rep":
                toks.insert(pos, toks[pos])
            elif pos + 1 < len(toks):
                toks[pos], toks[pos + 1] = toks[pos + 1], toks[pos]
        hyps.append(" ".join(toks))
    return hyps


# ------------------------------------------------------------------------------------------------
# Side-by-side run
# ------------------------------------------------------------------------------------------------


def compare(hyps: Sequence[str], gold: Sequence[GoldSentence], scorer: M2Scorer) -> dict:
    """Time the reference and ours on the same input (wall and CPU seconds); raise on any
    per-sentence difference in the chosen annotator or its counts, or in P/R/F."""
    sources = [g.source for g in gold]
    gold_sets = [nus_gold(g) for g in gold]
    w0, c0 = time.perf_counter(), time.process_time()
    rows, ref_prf = ref_corpus(hyps, sources, gold_sets, scorer.max_unchanged_words, scorer.beta,
                               scorer.ignore_whitespace_casing)
    w1, c1 = time.perf_counter(), time.process_time()
    results = scorer.score_sentences(hyps, gold)
    score = scorer.score_from_results(results)
    w2, c2 = time.perf_counter(), time.process_time()
    for k, (row, res) in enumerate(zip(rows, results)):
        st = res.stats
        if row != (st.annotator, st.correct, st.proposed, st.gold):
            raise AssertionError(f"sentence {k + 1}: reference {row} != ours "
                                 f"{(st.annotator, st.correct, st.proposed, st.gold)}\n  hyp: {hyps[k]}")
    if ref_prf != (score.precision, score.recall, score.f):
        raise AssertionError(f"totals differ: reference {ref_prf} != ours {(score.precision, score.recall, score.f)}")
    return {"ref_wall": w1 - w0, "ref_cpu": c1 - c0, "ours_wall": w2 - w1, "ours_cpu": c2 - c1, "score": score}
