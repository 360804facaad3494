"""How closely a candidate pair of graphs generates like the float32 pair, on a sample of real inputs.

Used by the exporter twice: int8 graphs must agree with float32 ones often enough to be kept (a
broken quantization still runs and returns probabilities, so only the outputs tell), and fused
float32 graphs are kept only where they keep parity. Both pairs run the runtime's own sessions and
search (``export.runtime``, ``export.search``) over the same sources, so what is measured is what
``tlm-generate`` will do. The sources come from the data-bin the checkpoint was trained on
(``valid``, else ``test``), so they look like real inputs; random symbols are the fallback.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import Agreement
from .runtime import CPU, DecoderState, Sessions, encode, pad_sources
from .search import Hypothesis, SearchOptions, Symbols, beam_search, greedy_search

log = logging.getLogger("tlm.export")

SAMPLE_SPLITS = ("valid", "test")
BATCH = 32


def describe(agreement: Agreement) -> str:
    a = agreement
    search = "greedy" if a.beam == 1 else f"beam-{a.beam}"
    bleu = f", BLEU against float32 {a.bleu:.1f}" if a.bleu is not None else ""
    return (f"{100 * a.identical:.1f}% of {a.sentences} {search} outputs identical ({a.sample} sample){bleu}, "
            f"score difference of the identical ones mean {a.mean_score_diff:.2g}, max {a.max_score_diff:.2g}")


def sample_sources(task: Any, count: int, max_source_positions: int, random_vocab: int, eos: int,
                   records: int = 0, seed: int = 0, copy_vocab: int | None = None) -> tuple[list[np.ndarray], str]:
    """Up to ``count`` sources of the task's valid split (then its test split), or random ones, and where from.

    ``records``: fields per record for record models (0 for text), for the random fallback.
    ``copy_vocab``: a copy model's target vocabulary size; its sources get the records' extended
    ids as a last column (``export.runtime.encode``), from the task's copy targets.
    """
    sources: list[np.ndarray] = []
    used = []
    for split in SAMPLE_SPLITS:
        try:
            task.load_dataset(split)
            dataset = task.dataset(split)
        except Exception as err:  # noqa: BLE001 - missing files raise FileNotFoundError, others vary
            log.debug("no %s split for the agreement sample: %s", split, err)
            continue
        before = len(sources)
        for i in range(len(dataset)):
            if len(sources) == count:
                break
            item = dataset[i]
            source = item["source"].numpy().astype(np.int64)
            if copy_vocab is not None:
                source = np.concatenate([source, item["src_ext"].numpy().astype(np.int64)[:, None]], axis=1)
            if 0 < len(source) <= max_source_positions:
                sources.append(source)
        if len(sources) > before:
            used.append(split)
    if sources:
        return sources, "+".join(used)
    log.warning("no valid or test split in the data-bin: measuring agreement on random symbols")
    rng = np.random.default_rng(seed)
    sources = []
    for _ in range(count):
        length = int(rng.integers(4, min(32, max_source_positions) + 1))
        if records:
            fields = rng.integers(4, random_vocab, size=(length, records), dtype=np.int64)
            if copy_vocab is not None:  # vocabulary values only: random records have no value strings
                fields = np.concatenate([fields, rng.integers(4, max(copy_vocab, 5), size=(length, 1))], axis=1)
            sources.append(fields)
        else:
            sources.append(np.append(rng.integers(4, random_vocab, size=length - 1, dtype=np.int64), eos))
    return sources, "random"


@dataclass
class Sample:
    """Sources and everything a search over them needs; :meth:`generate` runs one graph pair."""

    sources: list[np.ndarray]
    origin: str  # "valid", "test" or "random"
    dims: dict[str, int]
    symbols: Symbols
    max_positions: int
    opts: SearchOptions
    copy_vocab: int | None = None  # copy models (``Sessions.copy_vocab``)

    def generate(self, encoder: Path, decoder: Path, precision: str) -> list[Hypothesis | None]:
        """The best hypothesis per source (None if nothing finished), batched by length like tlm-generate."""
        sessions = Sessions.create(encoder, decoder, self.dims["decoder_layers"], CPU, threads=1, precision=precision,
                                   copy_vocab=self.copy_vocab)
        best: list[Hypothesis | None] = [None] * len(self.sources)
        order = sorted(range(len(self.sources)), key=lambda i: len(self.sources[i]))
        search = greedy_search if self.opts.beam == 1 else beam_search
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            src = pad_sources([self.sources[i] for i in batch], self.symbols.pad)
            state = DecoderState(sessions, encode(sessions, src), self.dims["heads"], self.dims["head_dim"])
            lengths = np.asarray([len(self.sources[i]) for i in batch])
            for i, hyps in zip(batch, search(state, lengths, self.opts, self.symbols, self.max_positions)):
                best[i] = hyps[0] if hyps else None
        return best


def id_bleu(reference: list[Hypothesis | None], candidate: list[Hypothesis | None]) -> float:
    """Corpus BLEU of ``candidate``'s token ids against ``reference``'s (a missing output is empty)."""
    from sacrebleu.metrics import BLEU

    def text(h: Hypothesis | None) -> str:
        return " ".join(map(str, h.tokens)) if h is not None else ""

    return float(BLEU(tokenize="none").corpus_score([text(c) for c in candidate], [[text(r) for r in reference]]).score)


def compare(reference: list[Hypothesis | None], candidate: list[Hypothesis | None], beam: int, sample: str) -> Agreement:
    same = [(r, c) for r, c in zip(reference, candidate) if r is not None and c is not None and r.tokens == c.tokens]
    same += [(r, c) for r, c in zip(reference, candidate) if r is None and c is None]
    diffs = [abs(r.score - c.score) for r, c in same if r is not None and c is not None]
    return Agreement(sentences=len(reference), beam=beam, identical=len(same) / max(len(reference), 1),
                     mean_score_diff=float(np.mean(diffs)) if diffs else 0.0,
                     max_score_diff=float(np.max(diffs)) if diffs else 0.0, sample=sample,
                     bleu=round(id_bleu(reference, candidate), 2))
