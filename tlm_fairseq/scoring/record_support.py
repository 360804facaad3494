"""Record support of a data-to-text summary: are its numbers the game's, and said of the right entity?

Two reference-free checks against the game's records ``(value, entity, type)``:

* **number support**: the share of the summary's numbers (digit tokens) that are the value of some
  record of the game (``bleu.content_stats``);
* **relation precision (approximate)**: every number is paired with an entity mentioned near it,
  and the pair counts as correct when some record of that entity has that number as its value.

The second is a lightweight proxy for the relation-generation precision of Wiseman et al. (2017),
not their trained information extractor: mentions are found by string matching, the pairing is a
fixed rule, and the record type is ignored (a number that is the entity's value for any statistic
counts). Rule: sentences end at ``.``, ``!`` or ``?``; mentions are the longest matches of an
entity's full name (``Kevin Love``, ``Trail Blazers``), a player's first or last name, a team's city
or city and name; a form shared by two entities of the game (``Los Angeles`` when both Los Angeles
teams play) is not a mention. A number pairs with the nearest player mentioned before it in its
sentence, else the nearest team before it (player statistics follow the player's name even when a
team comes between: "X led the Hawks with 30 points"), else the nearest mention after it; a number
in a sentence without mentions ("He added 10 points") is not paired. Spelled-out numbers are not counted. Run on the references, the same proxy gives the
ceiling a perfect system would get under it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from .bleu import NUMBER

SENTENCE_END = frozenset({".", "!", "?"})
#: record types whose value names the entity (players: first/last name; teams: city, name)
NAME_TYPES = frozenset({"FIRST_NAME", "SECOND_NAME", "TEAM-CITY", "TEAM-NAME"})
UNK = "<unk>"


@dataclass(frozen=True)
class GameRecords:
    """One game's records as parallel lists (the ``{split}.{value,entity,type}.txt`` lines)."""

    values: Sequence[str]
    entities: Sequence[str]
    types: Sequence[str]

    def __post_init__(self) -> None:
        if not len(self.values) == len(self.entities) == len(self.types):
            raise ValueError(
                f"{len(self.values)} values, {len(self.entities)} entities, {len(self.types)} types: not aligned"
            )


@dataclass(frozen=True)
class Relation:
    """A number of the summary (token position) paired with an entity, and whether a record backs it."""

    position: int
    number: str
    entity: str
    supported: bool


@dataclass(frozen=True)
class SupportStats:
    length: int
    unk: int
    numbers: int
    supported_numbers: int
    pairs: int
    supported_pairs: int

    def __add__(self, other: SupportStats) -> SupportStats:
        return SupportStats(*(a + b for a, b in zip(self.astuple(), other.astuple())))

    def astuple(self) -> tuple[int, ...]:
        return (self.length, self.unk, self.numbers, self.supported_numbers, self.pairs, self.supported_pairs)


def _words(symbol: str) -> tuple[str, ...]:
    """Record symbols join multi-word names with '_' (``Trail_Blazers``); summaries have words."""
    return tuple(w for w in symbol.split("_") if w)


def mention_forms(records: GameRecords) -> dict[tuple[str, ...], str]:
    """Word sequences that name exactly one entity of the game, mapped to that entity."""
    forms: dict[tuple[str, ...], set[str]] = defaultdict(set)
    cities: dict[str, tuple[str, ...]] = {}
    names: dict[str, tuple[str, ...]] = {}
    for value, entity, kind in zip(records.values, records.entities, records.types):
        forms[_words(entity)].add(entity)
        if kind in NAME_TYPES:
            forms[_words(value)].add(entity)
        if kind == "TEAM-CITY":
            cities[entity] = _words(value)
        elif kind == "TEAM-NAME":
            names[entity] = _words(value)
    for entity, city in cities.items():
        forms[city + names.get(entity, _words(entity))].add(entity)
    return {form: next(iter(owners)) for form, owners in forms.items() if form and len(owners) == 1}


def find_mentions(tokens: Sequence[str], forms: dict[tuple[str, ...], str]) -> list[tuple[int, int, str]]:
    """``(start, end, entity)`` of each mention, longest match first, scanning left to right."""
    longest = max((len(f) for f in forms), default=0)
    mentions, i = [], 0
    while i < len(tokens):
        for n in range(min(longest, len(tokens) - i), 0, -1):
            entity = forms.get(tuple(tokens[i : i + n]))
            if entity is not None:
                mentions.append((i, i + n, entity))
                i += n
                break
        else:
            i += 1
    return mentions


def _sentences(tokens: Sequence[str]) -> list[tuple[int, int]]:
    spans, start = [], 0
    for i, token in enumerate(tokens):
        if token in SENTENCE_END:
            spans.append((start, i + 1))
            start = i + 1
    if start < len(tokens):
        spans.append((start, len(tokens)))
    return spans


def relations(tokens: Sequence[str], records: GameRecords) -> list[Relation]:
    """The (entity, number) pairs of a summary under the rule of the module docstring."""
    values_of: dict[str, set[str]] = defaultdict(set)
    teams = set()
    for value, entity, kind in zip(records.values, records.entities, records.types):
        values_of[entity].add(value)
        if kind.startswith("TEAM-"):
            teams.add(entity)
    mentions = find_mentions(tokens, mention_forms(records))
    found = []
    for start, end in _sentences(tokens):
        inside = [m for m in mentions if start <= m[0] and m[1] <= end]
        if not inside:
            continue
        for i in range(start, end):
            if not NUMBER.match(tokens[i]) or any(s <= i < e for s, e, _ in inside):
                continue
            before = [m for m in inside if m[1] <= i]
            players = [m for m in before if m[2] not in teams]
            entity = (players or before)[-1][2] if before else next(m[2] for m in inside if m[0] > i)
            found.append(Relation(i, tokens[i], entity, tokens[i] in values_of[entity]))
    return found


def record_support(tokens: Sequence[str], records: GameRecords) -> SupportStats:
    """Length, ``<unk>`` count, number support and paired-relation support of one summary."""
    values = set(records.values)
    numbers = [t for t in tokens if NUMBER.match(t)]
    pairs = relations(tokens, records)
    return SupportStats(
        length=len(tokens),
        unk=sum(t == UNK for t in tokens),
        numbers=len(numbers),
        supported_numbers=sum(n in values for n in numbers),
        pairs=len(pairs),
        supported_pairs=sum(p.supported for p in pairs),
    )
