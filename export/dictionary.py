"""fairseq ``dict.*.txt`` files read without fairseq, with fairseq's exact symbol numbering.

Deployments must not need fairseq, yet token ids must be the ones the model was trained with:
four special symbols first (``<s>``, ``<pad>``, ``</s>``, ``<unk>``), then one ``symbol count
[#fairseq:overwrite]`` line per symbol, numbered in file order.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from tlm_fairseq.errors import InputError
from tlm_fairseq.files import iter_lines

BOS, PAD, EOS, UNK = "<s>", "<pad>", "</s>", "<unk>"
SPECIALS = (BOS, PAD, EOS, UNK)


@dataclass
class Dictionary:
    """Symbol <-> id mapping of one fairseq dictionary file."""

    symbols: list[str]
    path: str = "<memory>"
    indices: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.indices = {}
        for i, symbol in enumerate(self.symbols):
            self.indices[symbol] = i

    bos = property(lambda self: self.indices[BOS])
    pad = property(lambda self: self.indices[PAD])
    eos = property(lambda self: self.indices[EOS])
    unk = property(lambda self: self.indices[UNK])

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, tokens: list[str], append_eos: bool) -> list[int]:
        """Ids of ``tokens``; unknown symbols become ``<unk>`` as in fairseq's ``encode_line``."""
        get, unk = self.indices.get, self.unk
        ids = [get(t, unk) for t in tokens]
        if append_eos:
            ids.append(self.eos)
        return ids

    def shown(self, ids: list[int]) -> list[int]:
        """``ids`` without ``</s>``, ``<pad>`` and ``<s>``: the ones fairseq-generate prints."""
        skip = {self.eos, self.pad, self.bos}
        return [i for i in ids if i not in skip]

    def decode(self, ids: list[int]) -> list[str]:
        """Symbols of the :meth:`shown` ``ids``."""
        return [self.symbols[i] for i in self.shown(ids)]


def read_dictionary(path: str | os.PathLike[str]) -> Dictionary:
    """Parse a fairseq dictionary file; any malformed line is an error naming the file and line."""
    symbols = list(SPECIALS)
    seen = set(SPECIALS)
    for lineno, line in iter_lines(path):
        parts = line.rstrip().rsplit(" ", 1)
        overwrite = False
        if len(parts) == 2 and parts[1] == "#fairseq:overwrite":
            overwrite = True
            parts = parts[0].rsplit(" ", 1)
        if len(parts) != 2 or not parts[0] or not parts[1].lstrip("-").isdigit():
            raise InputError(path, lineno, f"expected '<symbol> <count> [#fairseq:overwrite]', got {line!r}")
        symbol = parts[0]
        if symbol in seen and not overwrite:
            raise InputError(path, lineno, f"duplicate symbol {symbol!r}")
        seen.add(symbol)
        symbols.append(symbol)
    return Dictionary(symbols, os.fspath(path))
