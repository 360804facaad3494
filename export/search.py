"""Beam and greedy search in numpy with fairseq's ``SequenceGenerator`` semantics.

Reproduced exactly (fairseq 0.12, ``fairseq/sequence_generator.py`` and ``search.BeamSearch``):
scores are summed log-probabilities; a finished hypothesis scores ``sum / (step + 1) ** lenpen``;
``<pad>`` is never chosen and ``<unk>`` pays ``unk_penalty``; ``</s>`` is forbidden before
``min_len`` and forced at ``max_len``; each step takes the top ``2 * beam`` candidates (the first
step looks at one beam only), finalizes the ``</s>`` candidates among the first ``beam`` of them,
continues with the first ``beam`` others, and a sentence is done once it has ``beam`` finished
hypotheses; finished hypotheses are sorted by score.

Two deliberate differences, both documented in the README:

* ``max_len = min(int(max_len_a * src_len + max_len_b), max_positions - 1)`` is computed per
  sentence from its own source length (tokens including ``</s>``; records for Rotowire), which is
  the documented meaning; fairseq uses the padded width of the whole batch, so its output can
  depend on batch composition (identical results whenever ``max_len_a == 0``, the default).
* ``no_repeat_ngram_size`` blocks repeated n-grams as documented and as fairseq's CUDA kernel does;
  fairseq 0.12's CPU fallback compares against padding and blocks nothing (fairseq issues #4709,
  #5206), so on CPU ``fairseq-generate --no-repeat-ngram-size`` is a no-op.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .search_options import OptionError, SearchOptions  # declared there; the search reads it

NEG_INF = np.float32(-np.inf)


class StepModel(Protocol):
    """The decoder as search sees it; the implementation keeps the caches."""

    def step(self, tokens: np.ndarray, reorder: np.ndarray) -> np.ndarray:
        """Log-probs ``(N, V)`` of the next token (``V`` + the batch's out-of-vocabulary values for a
        copy model); row ``i`` continues previous row ``reorder[i]``."""
        ...

    def keep_sentences(self, keep: np.ndarray) -> None:
        """Drop finished sentences from the encoder state (indices of the sentences to keep)."""
        ...


@dataclass
class Hypothesis:
    tokens: list[int]  # ends with </s>
    score: float  # natural log, length-normalized as fairseq reports it before its base-2 print
    positional_scores: list[float]


@dataclass(frozen=True)
class Symbols:
    pad: int
    eos: int
    unk: int
    vocab: int


def max_lengths(src_lengths: np.ndarray, opts: SearchOptions, max_positions: int) -> np.ndarray:
    """Per-sentence maximum output length (without ``</s>``)."""
    limits = [min(int(opts.max_len_a * int(n) + opts.max_len_b), max_positions - 1) for n in src_lengths]
    return np.asarray(limits, dtype=np.int64)


def checked_max_lengths(src_lengths: np.ndarray, opts: SearchOptions, max_positions: int) -> np.ndarray:
    """:func:`max_lengths`, refusing ``min_len > max_len`` as fairseq does, naming the input."""
    limits = max_lengths(src_lengths, opts, max_positions)
    if (limits < opts.min_len).any():
        bad = int(np.argmax(limits < opts.min_len))
        raise OptionError("min_len", f"{opts.min_len} is larger than max_len {int(limits[bad])} of input {bad}")
    return limits


def _writable(lprobs: np.ndarray) -> np.ndarray:
    """float32 log-probs the search may change in place (onnxruntime's own output buffer when it can)."""
    return np.require(lprobs, np.float32, ["W", "C"])


def _mask_lprobs(lprobs: np.ndarray, step: int, row_max_len: np.ndarray, opts: SearchOptions, sym: Symbols) -> None:
    """In place: NaN, pad, unk penalty, forced </s> at max_len, no </s> before min_len."""
    lprobs[np.isnan(lprobs)] = NEG_INF
    lprobs[:, sym.pad] = NEG_INF
    if opts.unk_penalty:
        lprobs[:, sym.unk] -= np.float32(opts.unk_penalty)
    at_max = step >= row_max_len
    if at_max.any():
        eos_col = lprobs[at_max, sym.eos].copy()
        lprobs[at_max] = NEG_INF
        lprobs[at_max, sym.eos] = eos_col
    if step < opts.min_len:
        lprobs[:, sym.eos] = NEG_INF


def _block_ngrams(lprobs: np.ndarray, tokens: np.ndarray, step: int, n: int) -> None:
    """Forbid every token that would repeat an n-gram of ``tokens[:, :step + 1]``."""
    start = step + 2 - n
    if n <= 0 or start <= 0:
        return
    for row, seq in enumerate(tokens[:, : step + 1].tolist()):
        tail = seq[step + 2 - n : step + 1]
        banned = [seq[i + n - 1] for i in range(start) if seq[i : i + n - 1] == tail]
        if banned:
            lprobs[row, banned] = NEG_INF


def _topk(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest ``k`` per row, sorted descending (ties: lower index first)."""
    part = np.argpartition(values, values.shape[1] - k, axis=1)[:, -k:]  # k < width: search never asks for all
    picked = np.take_along_axis(values, part, axis=1)
    order = np.lexsort((part, -picked), axis=1)
    idx = np.take_along_axis(part, order, axis=1)
    return np.take_along_axis(values, idx, axis=1), idx


def _finish(tokens: np.ndarray, scores: np.ndarray, row: int, step: int, eos_score: float, lenpen: float, eos: int) -> Hypothesis:
    seq = tokens[row, 1 : step + 2].copy()
    seq[step] = eos
    cum = scores[row, : step + 1].astype(np.float32).copy()
    cum[step] = eos_score
    pos = cum.copy()
    pos[1:] = cum[1:] - cum[:-1]
    norm = np.float32(eos_score) / np.float32((step + 1) ** lenpen)
    return Hypothesis(seq.tolist(), float(norm), pos.tolist())


def beam_search(
    model: StepModel, src_lengths: np.ndarray, opts: SearchOptions, sym: Symbols, max_positions: int
) -> list[list[Hypothesis]]:
    """All finished hypotheses per sentence, best first (``opts.beam`` of them, fewer at max_len)."""
    beam = min(opts.beam, sym.vocab - 1)
    bsz = len(src_lengths)
    row_limit = checked_max_lengths(src_lengths, opts, max_positions)
    longest = int(row_limit.max())
    tokens = np.full((bsz * beam, longest + 2), sym.pad, dtype=np.int64)
    tokens[:, 0] = sym.eos
    scores = np.zeros((bsz * beam, longest + 1), dtype=np.float32)
    finalized: list[list[Hypothesis]] = [[] for _ in range(bsz)]
    sent_ids = np.arange(bsz)  # original sentence of each current batch entry
    limits = row_limit.copy()  # per current batch entry
    cands_to_ignore = np.zeros((bsz, beam), dtype=bool)
    cand_size = 2 * beam
    reorder = np.arange(bsz)
    for step in range(longest + 1):
        step_tokens = tokens[::beam, step] if step == 0 else tokens[:, step]
        lprobs = _writable(model.step(np.ascontiguousarray(step_tokens), reorder))
        rows_per_sent = 1 if step == 0 else beam
        _mask_lprobs(lprobs, step, np.repeat(limits, rows_per_sent), opts, sym)
        if opts.no_repeat_ngram_size > 0:
            _block_ngrams(lprobs, tokens[::beam] if step == 0 else tokens, step, opts.no_repeat_ngram_size)
        if step == 0:
            flat = lprobs.reshape(bsz, -1)
        else:
            flat = (lprobs.reshape(bsz, beam, -1) + scores.reshape(bsz, beam, -1)[:, :, step - 1, None]).reshape(bsz, -1)
        k = min(cand_size, flat.shape[1] - 1)
        cand_scores, idx = _topk(flat, k)
        width = lprobs.shape[1]  # the vocabulary, plus a copy model's out-of-vocabulary values of the batch
        cand_indices = idx % width
        cand_beams = idx // width
        offsets = (np.arange(bsz) * beam)[:, None]
        cand_bbsz = cand_beams + offsets
        eos_mask = (cand_indices == sym.eos) & (cand_scores != NEG_INF)
        eos_mask[:, :beam][cands_to_ignore] = False
        newly_finished: list[int] = []
        eos_where = np.nonzero(eos_mask[:, :beam])
        if len(eos_where[0]):
            touched = []
            for b, c in zip(*eos_where):
                sent = int(sent_ids[b])
                if len(finalized[sent]) < beam:
                    finalized[sent].append(_finish(tokens, scores, int(cand_bbsz[b, c]), step, float(cand_scores[b, c]), opts.lenpen, sym.eos))
                touched.append(int(b))
            for b in sorted(set(touched)):
                if len(finalized[sent_ids[b]]) == beam or step == limits[b]:
                    newly_finished.append(b)
        # A sentence at its limit has finalized above unless every score was -inf: stop it anyway.
        newly_finished = sorted(set(newly_finished) | set(np.nonzero(step >= limits)[0].tolist()))
        if len(newly_finished) == bsz:
            break
        prev_rows = 1 if step == 0 else beam
        keep = np.arange(bsz)
        if newly_finished:
            keep = np.setdiff1d(keep, np.asarray(newly_finished))
            model.keep_sentences(keep)
            eos_mask, cand_beams = eos_mask[keep], cand_beams[keep]
            cand_scores, cand_indices = cand_scores[keep], cand_indices[keep]
            cands_to_ignore = cands_to_ignore[keep]
            rows = (keep[:, None] * beam + np.arange(beam)).reshape(-1)
            tokens, scores = tokens[rows], scores[rows]
            sent_ids, limits = sent_ids[keep], limits[keep]
            bsz = len(keep)
            offsets = (np.arange(bsz) * beam)[:, None]
            cand_bbsz = cand_beams + offsets
        eos_mask[:, :beam] |= cands_to_ignore
        active_mask = eos_mask.astype(np.int64) * cand_size + np.arange(eos_mask.shape[1])
        active_hypos = np.argsort(active_mask, axis=1, kind="stable")[:, :beam]
        cands_to_ignore = np.take_along_axis(active_mask, active_hypos, axis=1) >= cand_size
        active_bbsz = np.take_along_axis(cand_bbsz, active_hypos, axis=1).reshape(-1)
        tokens[:, : step + 1] = tokens[active_bbsz, : step + 1]
        tokens[:, step + 1] = np.take_along_axis(cand_indices, active_hypos, axis=1).reshape(-1)
        if step > 0:
            scores[:, :step] = scores[active_bbsz, :step]
        scores[:, step] = np.take_along_axis(cand_scores, active_hypos, axis=1).reshape(-1)
        # rows of the decoder's cache are still laid out as before the removal: map back
        active_beam = np.take_along_axis(cand_beams, active_hypos, axis=1)
        reorder = (keep[:, None] * prev_rows + active_beam).reshape(-1)
    for sent in finalized:
        sent.sort(key=lambda h: -h.score)
    return finalized


def greedy_search(
    model: StepModel, src_lengths: np.ndarray, opts: SearchOptions, sym: Symbols, max_positions: int
) -> list[list[Hypothesis]]:
    """``beam == 1``: fairseq's beam search with one beam reduces to taking the best token."""
    bsz = len(src_lengths)
    row_limit = checked_max_lengths(src_lengths, opts, max_positions)
    longest = int(row_limit.max())
    tokens = np.full((bsz, longest + 2), sym.pad, dtype=np.int64)
    tokens[:, 0] = sym.eos
    scores = np.zeros((bsz, longest + 1), dtype=np.float32)
    finalized: list[list[Hypothesis]] = [[] for _ in range(bsz)]
    sent_ids = np.arange(bsz)
    limits = row_limit.copy()
    reorder = np.arange(bsz)
    for step in range(longest + 1):
        lprobs = _writable(model.step(np.ascontiguousarray(tokens[:, step]), reorder))
        _mask_lprobs(lprobs, step, limits, opts, sym)
        if opts.no_repeat_ngram_size > 0:
            _block_ngrams(lprobs, tokens, step, opts.no_repeat_ngram_size)
        best = np.argmax(lprobs, axis=1)
        best_lp = lprobs[np.arange(len(best)), best]
        cum = best_lp + (scores[:, step - 1] if step > 0 else np.float32(0))
        done = (best == sym.eos) & (cum != NEG_INF)
        for b in np.nonzero(done)[0]:
            finalized[sent_ids[b]].append(_finish(tokens, scores, int(b), step, float(cum[b]), opts.lenpen, sym.eos))
        keep = np.nonzero(~done & (step < limits))[0]  # at its limit a sentence stops even if all were -inf
        if len(keep) == 0:
            break
        if len(keep) < len(done):
            model.keep_sentences(keep)
        tokens, scores, best, cum = tokens[keep], scores[keep], best[keep], cum[keep]
        sent_ids, limits = sent_ids[keep], limits[keep]
        tokens[:, step + 1] = best
        scores[:, step] = cum
        reorder = keep
    return finalized
