"""BLEU and simple content statistics for Rotowire-style data-to-text output.

Rotowire papers report multi-bleu.perl on the dataset's own tokenization; sacrebleu with
``tokenize="none"`` on the same tokenized text gives the same number, so that is the headline
figure. The 13a figure is printed next to it for comparison with detokenized evaluations.
Raw text (a user's own references or outputs) is first tokenized like the dataset: NLTK's Treebank
tokenizer (no downloaded data needed), plus the two things the dataset does that Treebank does not
on multi-sentence text: a period ending any sentence is its own token, and hyphens are split off
("46-12" -> "46 - 12", "all-around" -> "all - around").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nltk.tokenize import TreebankWordTokenizer
from sacrebleu.metrics import BLEU

_TREEBANK = TreebankWordTokenizer()
# Tokens whose final period belongs to them: initials (J.R., U.S.) and common abbreviations.
_ABBREVIATION = re.compile(r"^(?:(?:[A-Za-z]\.)+|Jr\.|Sr\.|St\.|Mr\.|Mrs\.|Dr\.|vs\.|No\.|Nos\.)$")
_HYPHENS = re.compile(r"(-)")
NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def treebank_tokenize(text: str) -> list[str]:
    """Tokenize raw text the way the Rotowire summaries are tokenized."""
    tokens: list[str] = []
    for token in _TREEBANK.tokenize(text):
        if len(token) > 1 and token.endswith(".") and not _ABBREVIATION.match(token):
            parts = [token[:-1], "."]
        else:
            parts = [token]
        for part in parts:
            if "-" in part and part != "-" and not part.startswith("--"):
                tokens.extend(p for p in _HYPHENS.split(part) if p)
            else:
                tokens.append(part)
    return tokens


@dataclass(frozen=True)
class BleuResult:
    """One corpus BLEU figure with its sacrebleu signature (what makes it reproducible)."""

    score: float
    signature: str
    text: str


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str], tokenize: str = "none") -> BleuResult:
    """Corpus BLEU of space-tokenized hypotheses against one reference each."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    metric = BLEU(tokenize=tokenize)
    result = metric.corpus_score(list(hypotheses), [list(references)])
    return BleuResult(result.score, str(metric.get_signature()), str(result))


@dataclass(frozen=True)
class ContentStats:
    """Length and how many of the output's numbers are values of the game's records."""

    length: int
    numbers: int
    supported: int

    @property
    def share(self) -> float | None:
        return self.supported / self.numbers if self.numbers else None


def content_stats(tokens: Sequence[str], record_values: Iterable[str]) -> ContentStats:
    """Numbers are digit tokens; a number is supported when some record has it as its value.

    A rough, reference-free check of whether the output's numbers come from the input (spelled-out
    numbers such as "four" are not counted).
    """
    values = set(record_values)
    numbers = [t for t in tokens if NUMBER.match(t)]
    return ContentStats(len(tokens), len(numbers), sum(n in values for n in numbers))
