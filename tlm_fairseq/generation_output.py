"""The one parser of ``fairseq-generate``/``fairseq-interactive`` hypothesis lines.

fairseq prints hypotheses in batch (length-sorted) order as ``H-<id><TAB><score><TAB><tokens>``,
with the score in base 2 (``fairseq-generate`` divides the natural-log score by ln 2). Callers need
either every hypothesis (n-best, scores) or the best one per input in input order, with a clear
error when fairseq's output does not cover the inputs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from .errors import UserError


class GenerationError(UserError):
    """fairseq's output does not cover the input (missing, unexpected or malformed ids)."""


@dataclass(frozen=True)
class GeneratedHypothesis:
    """One ``H-`` line: input id, score in base 2 as printed, detokenized-by-fairseq text."""

    index: int
    score: float
    text: str

    @property
    def natural_log_score(self) -> float:
        return self.score * math.log(2)

    @property
    def tokens(self) -> list[str]:
        return self.text.split()


def iter_hypotheses(lines: Iterable[str], source: str = "fairseq output") -> Iterable[GeneratedHypothesis]:
    """Every ``H-`` line in fairseq's order (the n-best of one id come best first)."""
    for lineno, line in enumerate(lines, start=1):
        if not line.startswith("H-"):
            continue
        head, *fields = line.rstrip("\r\n").split("\t")
        try:
            index = int(head[2:])
            score = float(fields[0])
        except (ValueError, IndexError):
            raise GenerationError(f"{source}:{lineno}: malformed hypothesis line {line[:60]!r}") from None
        yield GeneratedHypothesis(index, score, fields[1] if len(fields) > 1 else "")


def best_hypotheses(lines: Iterable[str], expected: int, source: str = "fairseq output") -> list[GeneratedHypothesis]:
    """The best hypothesis of every input id ``0..expected-1``, in input order."""
    best: dict[int, GeneratedHypothesis] = {}
    for hyp in iter_hypotheses(lines, source):
        best.setdefault(hyp.index, hyp)  # with --nbest > 1 the first H line of an id is the best
    missing = [i for i in range(expected) if i not in best]
    extra = sorted(i for i in best if not 0 <= i < expected)
    if missing or extra:
        raise GenerationError(
            f"{source}: {len(best)} hypotheses for {expected} inputs"
            + (f"; missing ids {missing[:10]}" if missing else "")
            + (f"; unexpected ids {extra[:10]}" if extra else "")
        )
    return [best[i] for i in range(expected)]
