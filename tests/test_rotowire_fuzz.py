"""Property-based fuzzing of the Rotowire reader (hypothesis).

Whatever a split file or a game holds, the reader and the record extraction either succeed or raise
the project's error (``UserError``: one line naming file, line, game and key); never another
exception. On any text, the streaming reader agrees with ``json.loads`` of the whole file, however
the file is cut into chunks; valid games round-trip through a file unchanged.
"""

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from preprocess.rotowire.records import (
    AWAY,
    HOME,
    PLAYER_KEYS,
    TEAM_KEYS,
    RotowireFormatError,
    extract_records,
    iter_json_items,
    iter_json_list,
    summary_tokens,
)  # fmt: skip
from preprocess.rotowire.synth import generate_games
from tlm_fairseq.errors import UserError

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
# Keys the extractor looks up, so that generated objects get past the first checks now and then.
schema_keys = st.sampled_from(["box_score", "home_line", "vis_line", "home_name", "home_city", "vis_name",
                               "vis_city", "summary", "MIN", "PLAYER_NAME", "TEAM_CITY", "0", "1", "N/A"])
keyed_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(schema_keys | st.text(max_size=4), inner, max_size=8),
    max_leaves=40,
)


def stdlib_verdict(data: bytes) -> Any:
    """What ``json.loads`` makes of the whole file: the list, or None when it is not one valid list."""
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    return value if isinstance(value, list) else None


def read(path: Path, chunk: int) -> Any:
    """The reader's verdict: the items, or None after a ``UserError`` (any other exception escapes)."""
    try:
        return list(iter_json_list(path, chunk_bytes=chunk))
    except UserError as err:
        assert str(err).startswith(f"{path}:"), err  # FILE:LINE first
        return None


def same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)  # NaN-safe comparison


@FUZZ
@given(data=st.binary(max_size=200), chunk=st.integers(1, 64))
def test_reader_on_arbitrary_bytes_agrees_with_json_loads(tmp_path_factory, data, chunk):
    path = tmp_path_factory.mktemp("fuzz") / "split.json"
    path.write_bytes(data)
    assert same(read(path, chunk), stdlib_verdict(data))


@st.composite
def json_files(draw) -> bytes:
    """Valid JSON lists in varied layouts, then often damaged: cut, extended, or a byte changed."""
    items = draw(st.lists(json_values, max_size=5))
    text = json.dumps(items, indent=draw(st.sampled_from([None, 0, 2])), ensure_ascii=draw(st.booleans()),
                      separators=draw(st.sampled_from([None, (",", ":"), (" ,\n", " : ")])))
    data = (draw(st.sampled_from(["", "\ufeff", " \n"])) + text + draw(st.sampled_from(["", "\n", " \r\n"]))).encode()
    damage = draw(st.sampled_from(["none", "cut", "append", "replace", "insert"]))
    at = draw(st.integers(0, len(data)))
    junk = draw(st.sampled_from([b"[]", b"]", b",", b"x", b"\xff", b"[1]", b"{", b'"', b"1", b" ", b"\n"]))
    if damage == "cut":
        data = data[:at]
    elif damage == "append":
        data = data + junk
    elif damage == "replace":
        data = data[:at] + junk + data[at + 1 :]
    elif damage == "insert":
        data = data[:at] + junk + data[at:]
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=json_files(), chunk=st.integers(1, 40) | st.just(1 << 20))
def test_reader_on_valid_and_damaged_lists_agrees_with_json_loads(tmp_path_factory, data, chunk):
    """Trailing lists or garbage, cuts and stray bytes: the reader never returns a different list."""
    path = tmp_path_factory.mktemp("fuzz") / "split.json"
    path.write_bytes(data)
    assert same(read(path, chunk), stdlib_verdict(data))


@FUZZ
@given(value=json_values | keyed_values)
def test_extraction_of_arbitrary_values_raises_only_format_errors(value):
    for extract in (lambda g: extract_records(g, 5), lambda g: summary_tokens(g, 5)):
        try:
            extract(value)
        except RotowireFormatError as err:
            assert isinstance(err, UserError) and str(err).startswith("game 5: ")


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a game (keys of objects, indices of lists)."""
    found = [prefix]
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        found += paths(child, prefix + (key,))
    return found


GAME = next(generate_games(1, 0))
GAME_PATHS = [p for p in paths(GAME) if p]


def check_records(records: list) -> None:
    for record in records:
        assert len(record) == 4 and all(isinstance(f, str) and f and not any(c.isspace() for c in f) for f in record)
        assert record[3] in (HOME, AWAY)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_damaged_games_give_clean_records_or_a_format_error(data):
    """Real-shaped games with one part replaced by anything or deleted: no crash, no odd record."""
    game = copy.deepcopy(GAME)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(GAME_PATHS))
        parent = game
        try:
            for key in path[:-1]:
                parent = parent[key]
            if data.draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = data.draw(keyed_values)
        except (KeyError, IndexError, TypeError):  # an earlier change removed this path
            continue
    try:
        check_records(extract_records(game, 0, max_records=data.draw(st.none() | st.integers(1, 600))))
        assert all(isinstance(t, str) and t for t in summary_tokens(game, 0))
    except RotowireFormatError as err:
        assert str(err).startswith("game 0: ")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), count=st.integers(1, 3), indent=st.sampled_from([None, 1]),
       chunk=st.sampled_from([7, 100, 4096, 1 << 20]))
def test_generated_games_round_trip_and_give_consistent_records(tmp_path_factory, seed, count, indent, chunk):
    games = list(generate_games(count, seed, "fuzz"))
    path = tmp_path_factory.mktemp("fuzz") / "split.json"
    text = json.dumps(games, indent=indent, ensure_ascii=False)
    path.write_text(text)
    read_back = list(iter_json_items(path, chunk_bytes=chunk))
    assert [game for _, game in read_back] == games
    lines = [line for line, _ in read_back]
    if indent is None:
        assert lines == [1] * count
    else:  # each game starts on its own line, which is the line reported for it
        file_lines = text.split("\n")
        assert lines == sorted(set(lines)) and all(file_lines[n - 1] == " {" for n in lines)
    for index, game in enumerate(games):
        records = extract_records(game, index)
        check_records(records)
        box = game["box_score"]
        played = [p for p in box["MIN"] if box["MIN"][p] != "N/A"]
        cells = sum(box[k][p] != "N/A" for p in played for k in PLAYER_KEYS)
        assert len(records) == 2 * len(TEAM_KEYS) + cells
        for side, line in ((HOME, "home_line"), (AWAY, "vis_line")):  # HOME/AWAY assigned right
            points = sum(int(r[0]) for r in records if r[2] == "PTS" and r[3] == side)
            assert points == int(game[line]["TEAM-PTS"])
        assert summary_tokens(game, index) == game["summary"]


def test_nan_and_huge_numbers_in_cells_do_not_crash():
    """float('1e400') and NaN used to be possible crash sources in ordering by minutes."""
    game = copy.deepcopy(GAME)
    players = list(game["box_score"]["MIN"])
    game["box_score"]["MIN"][players[0]] = 10 ** 400
    game["box_score"]["MIN"][players[1]] = math.nan
    game["box_score"]["PTS"][players[2]] = -math.inf
    check_records(extract_records(game, 0))


@pytest.mark.parametrize("key", ["\u00b2", "9" * 30, "x"])
def test_odd_box_score_keys_are_ordered_without_crashing(key):
    """'²'.isdigit() is True but int('²') fails: box-score keys that only look numeric."""
    game = copy.deepcopy(GAME)
    box = game["box_score"]
    first = next(iter(box["PLAYER_NAME"]))
    for column in box.values():
        column[key] = column.pop(first)
    for city in ("home_city", "vis_city"):  # force the starters-based split, which orders the keys
        game[city] = "Los Angeles"
    for player in box["TEAM_CITY"]:
        box["TEAM_CITY"][player] = "Los Angeles"
    try:
        check_records(extract_records(game, 0))
    except RotowireFormatError as err:
        assert "cannot split the teams" in str(err)
