"""A synthetic GEC-shaped task whose errors are fully determined by context, with gold M2 edits.

Real CGEC data is small and noisy, so a difference between regularizers there may be luck. Here the
ground truth is known: clean sentences are walks of a sparse Markov chain (each symbol has a few
successors, no self-loops), and a source is a clean sentence with injected errors that a model can
only fix by reading the context:

* confusion: a symbol is replaced by its fixed confusion partner, only where the partner cannot
  follow the previous symbol (so the error is visible and its fix unique);
* deletion: a symbol is dropped only where the neighbours cannot be adjacent and it is the only
  symbol that can bridge them (so the missing symbol is determined);
* duplication: a symbol is repeated (never a valid transition, the chain has no self-loops).

Each split gets ``SPLIT.src`` / ``SPLIT.tgt`` (space-separated symbols) and ``SPLIT.m2`` (gold edits in
source coordinates, annotator 0). Errors are at least two positions apart so their contexts are
clean. Same arguments, same bytes.

    python -m preprocess.cgec.synth --out data/synth --symbols 400 --train 2000 --valid 400 --test 400
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from tlm_fairseq.cli import CliParser, run_cli
from tlm_fairseq.errors import UserError
from tlm_fairseq.files import atomic_dir

SPLITS = ("train", "valid", "test")
MARKER = "synth.json"  # names a folder as this tool's output (so --force may replace it)
#: probabilities of 0, 1, 2, 3 errors in a sentence (a fifth of the sentences are already correct)
ERROR_COUNTS = (0.2, 0.35, 0.3, 0.15)
ERROR_KINDS = ("confusion", "deletion", "duplication")


@dataclass(frozen=True)
class Chain:
    """The sparse Markov chain and the confusion pairing over symbols ``0..n-1``."""

    successors: tuple[tuple[int, ...], ...]
    weights: tuple[tuple[float, ...], ...]
    partner: tuple[int, ...]

    @classmethod
    def build(cls, symbols: int, degree: int, rng: random.Random) -> "Chain":
        if symbols < 2 * degree + 2:
            raise UserError(f"--symbols must be at least {2 * degree + 2} for --degree {degree}")
        successors, weights = [], []
        for s in range(symbols):
            succ = rng.sample([t for t in range(symbols) if t != s], degree)
            raw = [rng.expovariate(1.0) for _ in succ]  # Dirichlet(1) weights: some paths are common
            successors.append(tuple(succ))
            weights.append(tuple(w / sum(raw) for w in raw))
        order = list(range(symbols))
        rng.shuffle(order)
        partner = list(range(symbols))
        for a, b in zip(order[0::2], order[1::2]):
            partner[a], partner[b] = b, a
        return cls(tuple(successors), tuple(weights), tuple(partner))

    def walk(self, length: int, rng: random.Random) -> list[int]:
        out = [rng.randrange(len(self.successors))]
        while len(out) < length:
            s = out[-1]
            out.append(rng.choices(self.successors[s], self.weights[s])[0])
        return out

    def follows(self, a: int, b: int) -> bool:
        return b in self.successors[a]

    def bridge(self, a: int, c: int) -> list[int]:
        """Symbols x with a -> x -> c."""
        return [x for x in self.successors[a] if self.follows(x, c)]


def possible_errors(chain: Chain, clean: Sequence[int], i: int) -> list[str]:
    """The error kinds that context determines at clean position ``i``."""
    kinds = ["duplication"]
    if i >= 1 and chain.partner[clean[i]] != clean[i] and not chain.follows(clean[i - 1], chain.partner[clean[i]]):
        kinds.append("confusion")
    if 1 <= i < len(clean) - 1 and not chain.follows(clean[i - 1], clean[i + 1]) \
            and chain.bridge(clean[i - 1], clean[i + 1]) == [clean[i]]:
        kinds.append("deletion")
    return kinds


def corrupt(chain: Chain, clean: Sequence[int], rng: random.Random) -> tuple[list[int], list[tuple[int, int, str, str]]]:
    """A source for ``clean`` and its gold edits ``(start, end, type, correction)`` in source coordinates."""
    wanted = rng.choices(range(len(ERROR_COUNTS)), ERROR_COUNTS)[0]
    positions = list(range(len(clean)))
    rng.shuffle(positions)
    chosen: dict[int, str] = {}
    for i in positions:
        if len(chosen) == wanted:
            break
        if any(abs(i - j) < 2 for j in chosen):
            continue
        chosen[i] = rng.choice(possible_errors(chain, clean, i))
    source: list[int] = []
    edits: list[tuple[int, int, str, str]] = []
    for i, symbol in enumerate(clean):
        kind = chosen.get(i)
        if kind == "confusion":
            edits.append((len(source), len(source) + 1, "S", name(symbol)))
            source.append(chain.partner[symbol])
        elif kind == "deletion":
            edits.append((len(source), len(source), "M", name(symbol)))
        elif kind == "duplication":
            source.append(symbol)
            edits.append((len(source), len(source) + 1, "R", "-NONE-"))
            source.append(symbol)
        else:
            source.append(symbol)
    return source, edits


def name(symbol: int) -> str:
    return f"w{symbol}"


def m2_block(source: Sequence[int], edits: Sequence[tuple[int, int, str, str]]) -> str:
    lines = ["S " + " ".join(map(name, source))]
    if not edits:
        lines.append("A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0")
    for start, end, kind, correction in edits:
        lines.append(f"A {start} {end}|||{kind}|||{correction}|||REQUIRED|||-NONE-|||0")
    return "\n".join(lines) + "\n\n"


def write_split(folder: Path, split: str, chain: Chain, count: int, lengths: tuple[int, int],
                rng: random.Random) -> dict[str, int]:
    counts = {kind: 0 for kind in ("M", "R", "S")}
    with open(folder / f"{split}.src", "w", encoding="utf-8") as src, \
            open(folder / f"{split}.tgt", "w", encoding="utf-8") as tgt, \
            open(folder / f"{split}.m2", "w", encoding="utf-8") as m2:
        for _ in range(count):
            clean = chain.walk(rng.randint(*lengths), rng)
            source, edits = corrupt(chain, clean, rng)
            src.write(" ".join(map(name, source)) + "\n")
            tgt.write(" ".join(map(name, clean)) + "\n")
            m2.write(m2_block(source, edits))
            for edit in edits:
                counts[edit[2]] += 1
    return counts


def build_parser() -> CliParser:
    parser = CliParser(prog="python -m preprocess.cgec.synth", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, help="output folder (must not exist unless --force)")
    parser.add_argument("--symbols", type=int, default=400, help="vocabulary size of the chain")
    parser.add_argument("--degree", type=int, default=4, help="successors per symbol (sparsity of the chain)")
    parser.add_argument("--train", type=int, default=2000, help="training pairs")
    parser.add_argument("--valid", type=int, default=400, help="validation pairs")
    parser.add_argument("--test", type=int, default=400, help="test pairs")
    parser.add_argument("--min-len", type=int, default=6, help="shortest clean sentence")
    parser.add_argument("--max-len", type=int, default=16, help="longest clean sentence")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="replace a previous output of this tool at --out")
    return parser


def generate(args: argparse.Namespace) -> int:
    if not 2 <= args.min_len <= args.max_len:
        raise UserError(f"need 2 <= --min-len <= --max-len, got {args.min_len} and {args.max_len}")
    if args.degree < 2:
        raise UserError(f"--degree must be at least 2, got {args.degree}")
    for split in SPLITS:
        if getattr(args, split) < 1:
            raise UserError(f"--{split} must be at least 1")
    rng = random.Random(args.seed)
    chain = Chain.build(args.symbols, args.degree, rng)
    replace = (lambda p: (p / MARKER).is_file()) if args.force else None
    meta: dict[str, object] = {k: v for k, v in vars(args).items() if k not in ("out", "force")}
    with atomic_dir(args.out, replace) as tmp:
        edits = {split: write_split(tmp, split, chain, getattr(args, split), (args.min_len, args.max_len), rng)
                 for split in SPLITS}
        meta["edits"] = edits
        (tmp / MARKER).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: " + ", ".join(f"{s} {getattr(args, s)} pairs, edits {edits[s]}" for s in SPLITS))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(build_parser(), generate, argv)


if __name__ == "__main__":
    sys.exit(main())
