"""De-duplication, the validation split and length filtering of sentence pairs.

The validation split is chosen by a keyed hash of the *source* sentence rather than by shuffling:
it does not depend on the order or number of input files, and all corrections of one source
(NLPCC lists several) land on the same side, so no source sentence leaks from train into valid.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterable, Sequence

from .readers import Pair


def dedup(pairs: Iterable[Pair]) -> list[Pair]:
    """Drop repeated (source, target) pairs, keeping the first occurrence and the input order."""
    seen: set[tuple[str, str]] = set()
    out: list[Pair] = []
    for p in pairs:
        key = (p.src, p.tgt)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _rank(src: str, seed: int) -> bytes:
    return hashlib.blake2b(src.encode("utf-8"), digest_size=16, key=str(seed).encode()).digest()


def split_valid(pairs: Sequence[Pair], n_sources: int, seed: int = 1) -> tuple[list[Pair], list[Pair]]:
    """Hold out the ``n_sources`` distinct sources of lowest hash rank, with all their targets.

    Returns ``(train, valid)``, each in input order.
    """
    if n_sources <= 0:
        return list(pairs), []
    groups: "OrderedDict[str, None]" = OrderedDict((p.src, None) for p in pairs)
    if n_sources >= len(groups):
        raise ValueError(f"--valid-size {n_sources} leaves no training data ({len(groups)} distinct sources)")
    held = set(sorted(groups, key=lambda s: _rank(s, seed))[:n_sources])
    train = [p for p in pairs if p.src not in held]
    valid = [p for p in pairs if p.src in held]
    return train, valid


@dataclass(frozen=True)
class LengthFilter:
    """Token-length limits for training pairs (evaluation data is never filtered).

    ``max_ratio`` drops pairs whose longer side is more than that many times the shorter side:
    such pairs in the NLPCC data are mostly rewrites of a different sentence, not corrections.
    """

    min_len: int = 1
    max_len: int = 200
    max_ratio: float = 0.0

    def keep(self, src: Sequence[str], tgt: Sequence[str]) -> bool:
        ls, lt = len(src), len(tgt)
        if not (self.min_len <= ls <= self.max_len and self.min_len <= lt <= self.max_len):
            return False
        if self.max_ratio > 0 and max(ls, lt) > self.max_ratio * max(1, min(ls, lt)):
            return False
        return True
