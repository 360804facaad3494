"""Rotowire games -> records, without torch or fairseq.

The record extraction of ``preprocess.rotowire`` without its binarization, so that serving a record
model (``export/``) needs neither. See ``extract_records`` for the record order. This module is the
one definition of the record fields: the ``data_to_text`` task, the record model, the preprocessing
and the export all import ``RECORD_FIELDS`` and ``TARGET_FIELD`` from here.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from typing import Any

from tlm_fairseq.errors import UserError

from .json_list import iter_json_items, iter_json_list  # noqa: F401  (re-exported: the split reader)

#: Record fields, in the order the ``data_to_text`` task stacks them into ``(B, T, 4)``; each is
#: also a file suffix of the binarized data (``{split}.{field}.bin``, ``dict.{field}.txt``).
RECORD_FIELDS: tuple[str, ...] = ("value", "entity", "type", "ha")
#: File suffix of the summaries (the model's target side).
TARGET_FIELD = "tgt"
HOME, AWAY = "HOME", "AWAY"

#: Line-score keys emitted per team, in this order (entity = the team name).
TEAM_KEYS: tuple[str, ...] = (
    "TEAM-NAME", "TEAM-CITY", "TEAM-PTS", "TEAM-PTS_QTR1", "TEAM-PTS_QTR2", "TEAM-PTS_QTR3",
    "TEAM-PTS_QTR4", "TEAM-WINS", "TEAM-LOSSES", "TEAM-FG_PCT", "TEAM-FG3_PCT", "TEAM-FT_PCT",
    "TEAM-REB", "TEAM-AST", "TEAM-TOV",
)  # fmt: skip
#: Box-score columns emitted per player, in this order (entity = the joined player name).
PLAYER_KEYS: tuple[str, ...] = (
    "PLAYER_NAME", "FIRST_NAME", "SECOND_NAME", "START_POSITION", "MIN", "PTS", "FGM", "FGA",
    "FG_PCT", "FG3M", "FG3A", "FG3_PCT", "FTM", "FTA", "FT_PCT", "OREB", "DREB", "REB", "AST",
    "TO", "STL", "BLK", "PF",
)  # fmt: skip
GAME_KEYS: tuple[str, ...] = (
    "box_score", "home_line", "vis_line", "home_name", "home_city", "vis_name", "vis_city",
    "summary",
)  # fmt: skip
BOX_KEYS: tuple[str, ...] = PLAYER_KEYS + ("TEAM_CITY",)
MISSING = "N/A"

Record = tuple[str, str, str, str]


class RotowireFormatError(UserError, ValueError):
    """A game does not follow the Rotowire schema; names the file and line when known, the game
    index and the offending key (``train.json:812: game 3: missing required key 'summary'``)."""

    def __init__(
        self,
        game_index: int,
        key: str,
        problem: str = "missing required key",
        source: str | None = None,
        line: int | None = None,
    ) -> None:
        where = "" if source is None else f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(f"{where}game {game_index}: {problem} {key!r}")
        self.game_index, self.key, self.problem, self.source, self.line = game_index, key, problem, source, line

    def in_file(self, source: str | os.PathLike[str], line: int | None = None) -> RotowireFormatError:
        """The same error, naming the file (and the line where the game starts)."""
        return RotowireFormatError(self.game_index, self.key, self.problem, os.fspath(source), line)


_SCALARS = (str, int, float, bool)


def _token(value: Any) -> str | None:
    """One whitespace-free token for a scalar cell (multi-word names joined by '_'); None if missing."""
    if value is None:
        return None
    text = "_".join(str(value).split())
    return None if not text or text == MISSING else text


def _cell(value: Any, index: int, path: str) -> str | None:
    """:func:`_token` for a cell that must be a string, a number or null (never a list or object)."""
    if value is not None and not isinstance(value, _SCALARS):
        raise RotowireFormatError(index, path, f"expected a string or number, got {type(value).__name__}, for")
    return _token(value)


def _get(mapping: Any, key: str, index: int, path: str) -> Any:
    if not isinstance(mapping, Mapping):
        raise RotowireFormatError(index, path.rsplit(".", 1)[0], "expected an object at")
    if key not in mapping:
        raise RotowireFormatError(index, path)
    return mapping[key]


def _cell_at(mapping: Any, key: str, index: int, path: str) -> str | None:
    """The token of ``mapping[key]`` (``path`` names it in errors)."""
    return _cell(_get(mapping, key, index, path), index, path)


def _number(value: Any) -> float:
    """A numeric cell for ordering and checks; anything else (text, NaN, 1e400) counts as 0."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _player_order_key(player: str) -> tuple[int, str]:
    """Box-score index order ("2" before "10"); other keys after them, by name."""
    if player.isascii() and player.isdigit() and len(player) < 19:
        return int(player), ""
    return sys.maxsize, player


def _assign_teams(game: Mapping[str, Any], players: list[str], index: int) -> dict[str, str]:
    """HOME/AWAY for each player.

    By ``TEAM_CITY`` when the two cities differ and every player has one of them. Otherwise (the
    two Los Angeles teams; a city spelled differently in the box score) the box score is split into
    its two per-team blocks, each listing its five starters first: the block starts at the sixth
    starter. The block whose points add up to the home team's points is HOME; failing that the
    first block is the visitors, the dataset's order.
    """
    box = game["box_score"]
    home_city, vis_city = _cell_at(game, "home_city", index, "home_city"), _cell_at(game, "vis_city", index, "vis_city")
    cities = {p: _cell_at(box["TEAM_CITY"], p, index, f"box_score.TEAM_CITY.{p}") for p in players}
    if home_city != vis_city and all(c in (home_city, vis_city) for c in cities.values()):
        return {p: HOME if c == home_city else AWAY for p, c in cities.items()}
    ordered = sorted(players, key=_player_order_key)
    positions = box["START_POSITION"]
    starters = [p for p in ordered if _cell(positions.get(p), index, f"box_score.START_POSITION.{p}") is not None]
    if len(starters) != 10:
        raise RotowireFormatError(
            index, "box_score.START_POSITION", "cannot split the teams: expected 10 starters in"
        )
    cut = ordered.index(starters[5])
    first, second = ordered[:cut], ordered[cut:]

    def points(block: list[str]) -> float:
        return sum(_number(box["PTS"].get(p)) for p in block)

    home_points = _number(game["home_line"].get("TEAM-PTS"))
    home_block = first if points(first) == home_points != points(second) else second
    return {p: HOME if p in home_block else AWAY for p in ordered}


def extract_records(game: Mapping[str, Any], index: int, max_records: int | None = None) -> list[Record]:
    """The game's records ``(value, entity, type, HOME|AWAY)`` in a fixed order.

    Order: the home team's line score, the visitors' line score (``TEAM_KEYS`` order), then every
    player who played (the keys of ``PLAYER_NAME`` whose ``MIN`` is not "N/A"), by minutes played
    (most first; ties: home team first, then box-score index), each in ``PLAYER_KEYS`` order.
    Missing cells ("N/A", e.g. a bench player's START_POSITION) are dropped; other non-numeric
    values are kept as tokens.
    ``max_records`` keeps the first N records, so a cap drops the least-used players first.
    """
    if not isinstance(game, Mapping):
        raise RotowireFormatError(index, "game", "expected an object for")
    for key in GAME_KEYS:
        _get(game, key, index, key)
    box = game["box_score"]
    for key in BOX_KEYS:
        if not isinstance(_get(box, key, index, f"box_score.{key}"), Mapping):
            raise RotowireFormatError(index, f"box_score.{key}", "expected an object for")

    records: list[Record] = []
    for side, line_key, name_key in ((HOME, "home_line", "home_name"), (AWAY, "vis_line", "vis_name")):
        line = game[line_key]
        team = _cell_at(game, name_key, index, name_key) or _cell_at(
            line, "TEAM-NAME", index, f"{line_key}.TEAM-NAME"
        )
        if team is None:
            raise RotowireFormatError(index, name_key, "empty team name in")
        for key in TEAM_KEYS:
            value = _cell_at(line, key, index, f"{line_key}.{key}")
            if value is not None:
                records.append((value, team, key, side))

    minutes = box["MIN"]
    played = [p for p in box["PLAYER_NAME"] if _cell_at(minutes, p, index, f"box_score.MIN.{p}") is not None]
    sides = _assign_teams(game, played, index)
    played.sort(key=lambda p: (-_number(minutes[p]), sides[p] != HOME, _player_order_key(p)))
    columns = [(key, box[key]) for key in PLAYER_KEYS]
    for player in played:
        entity = _cell_at(box["PLAYER_NAME"], player, index, f"box_score.PLAYER_NAME.{player}")
        if entity is None:
            raise RotowireFormatError(index, f"box_score.PLAYER_NAME.{player}", "empty player name in")
        side = sides[player]
        for key, column in columns:
            value = _cell_at(column, player, index, f"box_score.{key}.{player}")
            if value is not None:
                records.append((value, entity, key, side))
    return records if max_records is None else records[:max_records]


def summary_tokens(game: Mapping[str, Any], index: int) -> list[str]:
    """The summary as given (a list of tokens); whitespace inside a token would split it anyway."""
    summary = _get(game, "summary", index, "summary")
    if not isinstance(summary, list):
        raise RotowireFormatError(index, "summary", "expected a list of tokens for")
    for position, token in enumerate(summary):
        if not isinstance(token, _SCALARS):
            raise RotowireFormatError(
                index, f"summary.{position}", f"expected a string token, got {type(token).__name__}, for"
            )
    return " ".join(str(t) for t in summary).split()
