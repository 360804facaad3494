"""Rotowire records extraction and binarization: the real sample game, order, caps, bad input, outputs."""

import copy
import hashlib
import json
import logging
from pathlib import Path

import pytest
from fairseq.data import Dictionary, data_utils

from helpers import PY, run

from preprocess.rotowire import prep as rotowire
from preprocess.rotowire.records import (
    AWAY,
    HOME,
    PLAYER_KEYS,
    RECORD_FIELDS,
    TARGET_FIELD,
    TEAM_KEYS,
    RotowireFormatError,
    extract_records,
    iter_json_list,
    summary_tokens,
)  # fmt: skip
from preprocess.rotowire.prep import preprocess
from preprocess.rotowire.synth import generate_games, write_split
from tlm_fairseq.errors import InputError, UserError


@pytest.fixture(scope="module")
def sample_game(shared_data) -> dict:
    path = shared_data / "rotowire" / "sample_game.json"
    if not path.is_file():
        pytest.skip(f"the real Rotowire sample game {path} is absent")
    return json.loads(path.read_text())[0]


def synthetic(count: int = 3, seed: int = 0) -> list[dict]:
    return list(generate_games(count, seed))


def write_json(folder: Path, split: str, games: list) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{split}.json").write_text(json.dumps(games))


def test_sample_game_counts(sample_game):
    records = extract_records(sample_game, 0)
    # 15 line-score records per team; 21 of 26 players played: 10 starters with all 23 columns,
    # 11 bench players without START_POSITION ("N/A").
    assert len(records) == 2 * 15 + 10 * 23 + 11 * 22 == 502
    assert all(len(r) == 4 and all(r) and " " not in "".join(r) for r in records)
    assert {r[3] for r in records} == {HOME, AWAY}
    players = {r[1] for r in records if r[2] == "PLAYER_NAME"}
    assert len(players) == 21
    assert not {"John_Jenkins", "Mike_Muscala", "Elton_Brand", "Ben_Gordon", "Devyn_Marble"} & players  # DNP
    assert sum(r[2] == "START_POSITION" for r in records) == 10


def test_sample_game_exact_records(sample_game):
    records = extract_records(sample_game, 0)
    assert records[0] == ("Hawks", "Hawks", "TEAM-NAME", HOME)
    assert records[:15] == [(sample_game["home_line"][k], "Hawks", k, HOME) for k in TEAM_KEYS]
    assert records[15 + 2] == ("88", "Magic", "TEAM-PTS", AWAY)
    assert ("17", "Al_Horford", "PTS", HOME) in records
    assert ("13", "Al_Horford", "REB", HOME) in records
    assert ("21", "Nikola_Vucevic", "PTS", AWAY) in records
    assert ("Kyle_O'Quinn", "Kyle_O'Quinn", "PLAYER_NAME", AWAY) in records
    assert ("O'Quinn", "Kyle_O'Quinn", "SECOND_NAME", AWAY) in records
    # Players follow the line scores, most minutes first (Harris and Vucevic 37, ties by index).
    assert records[30] == ("Tobias_Harris", "Tobias_Harris", "PLAYER_NAME", AWAY)
    assert records[30 : 30 + len(PLAYER_KEYS)][4] == ("37", "Tobias_Harris", "MIN", AWAY)
    assert records[30 + len(PLAYER_KEYS)][1] == "Nikola_Vucevic"
    bench = [r for r in records if r[1] == "Dennis_Schroder"]
    assert [r[2] for r in bench] == [k for k in PLAYER_KEYS if k != "START_POSITION"]
    # Team points are the sum of the players' points, so HOME/AWAY is right.
    for side, line in ((HOME, "home_line"), (AWAY, "vis_line")):
        points = sum(int(r[0]) for r in records if r[2] == "PTS" and r[3] == side)
        assert points == int(sample_game[line]["TEAM-PTS"])


def test_summary_is_kept_as_given(sample_game):
    assert summary_tokens(sample_game, 0) == sample_game["summary"]


def test_extraction_is_deterministic_and_does_not_mutate(sample_game):
    before = copy.deepcopy(sample_game)
    assert extract_records(sample_game, 0) == extract_records(copy.deepcopy(sample_game), 0)
    assert sample_game == before


def test_max_records_keeps_the_prefix(sample_game):
    full = extract_records(sample_game, 0)
    assert extract_records(sample_game, 0, max_records=40) == full[:40]
    assert extract_records(sample_game, 0, max_records=10_000) == full


@pytest.mark.parametrize("key", rotowire.GAME_KEYS)
def test_missing_game_key_names_index_and_key(key):
    games = synthetic(3)
    del games[2][key]
    with pytest.raises(RotowireFormatError, match=rf"game 2: missing required key '{key}'"):
        extract_records(games[2], 2)


@pytest.mark.parametrize(
    "path",
    [
        "box_score.PTS",
        "box_score.TEAM_CITY",
        "home_line.TEAM-PTS",
        "vis_line.TEAM-WINS",
        "box_score.REB.3",
        "box_score.MIN.12",
    ],
)
def test_missing_nested_key_names_its_path(path):
    game = synthetic(1)[0]
    parts = path.split(".")
    parent = game
    for part in parts[:-1]:
        parent = parent[part]
    del parent[parts[-1]]
    with pytest.raises(RotowireFormatError) as err:
        extract_records(game, 7)
    assert str(err.value) == f"game 7: missing required key '{path}'"
    assert (err.value.game_index, err.value.key) == (7, path)


def test_non_numeric_values_are_kept_as_tokens():
    game = synthetic(1)[0]
    player = next(p for p, m in game["box_score"]["MIN"].items() if m != "N/A")
    game["box_score"]["PTS"][player] = "DNP - rest"
    game["home_line"]["TEAM-WINS"] = "unknown"
    records = extract_records(game, 0)
    name = "_".join(game["box_score"]["PLAYER_NAME"][player].split())
    assert [r[0] for r in records if r[1] == name and r[2] == "PTS"] == ["DNP_-_rest"]
    assert ("unknown", game["home_name"], "TEAM-WINS", HOME) in records


def test_same_city_teams_are_split_by_starters():
    """Lakers v Clippers: TEAM_CITY cannot tell the teams apart; the starters' blocks and points do."""
    game = synthetic(1)[0]
    box = game["box_score"]
    players = sorted(box["PLAYER_NAME"], key=int)
    visitors = {p for p in players if box["TEAM_CITY"][p] == game["vis_city"]}
    for key in ("home_city", "vis_city"):
        game[key] = "Los Angeles"
    for line in ("home_line", "vis_line"):
        game[line]["TEAM-CITY"] = "Los Angeles"
    for p in players:
        box["TEAM_CITY"][p] = "Los Angeles"
    records = extract_records(game, 0)
    sides = {r[1]: r[3] for r in records if r[2] == "PLAYER_NAME"}
    for p in players:
        if box["MIN"][p] != "N/A":
            name = "_".join(box["PLAYER_NAME"][p].split())
            assert sides[name] == (AWAY if p in visitors else HOME)


def test_streaming_reader_handles_small_chunks(tmp_path):
    games = synthetic(4)
    path = tmp_path / "games.json"
    path.write_text("  [\n" + " ,\n ".join(json.dumps(g) for g in games) + "\n]\n")
    assert list(iter_json_list(path, chunk_bytes=97)) == games
    (tmp_path / "empty.json").write_text("[ ]")
    assert list(iter_json_list(tmp_path / "empty.json")) == []
    (tmp_path / "obj.json").write_text('{"a": 1}')
    with pytest.raises(InputError, match=r"obj.json:1: expected a JSON list of games"):
        list(iter_json_list(tmp_path / "obj.json"))
    (tmp_path / "cut.json").write_text("[" + json.dumps(games[0])[:-20])
    with pytest.raises(InputError, match=r"cut.json:1: the file ends inside a game"):
        list(iter_json_list(tmp_path / "cut.json", chunk_bytes=64))


@pytest.mark.parametrize(
    "text, message",
    [
        ('[{"a": 1}]\n[{"b": 2}]\n', r"t.json:2: unexpected content after the list of games: '\[\{\"b\": 2\}\]\\n'"),
        ("[1, 2]\n\n  garbage", r"t.json:3: unexpected content after the list of games: 'garbage'"),
        ("[1, 2]]", r"t.json:1: unexpected content after the list of games: '\]'"),
        ("[1, 2", r"t.json:1: the file ends inside the list of games"),
        ("[1,\n 2 3]", r"t.json:2: invalid JSON: expected ',' or '\]' after a game, found '3\]'"),
        ("[1,\n {\"a\": }]", r"t.json:2: invalid JSON: Expecting value"),
        ("", r"t.json:1: empty file"),
        ("[" * 50_000, r"t.json:1: invalid JSON: nested too deeply"),
        ("[" + "9" * 5000 + "]", r"t.json:1: invalid JSON: Exceeds the limit"),
    ],
)
def test_reader_refuses_what_is_not_exactly_one_list(tmp_path, text, message):
    """Two lists back to back or trailing text used to be dropped silently: a shorter dataset."""
    path = tmp_path / "t.json"
    path.write_text(text)
    for chunk in (1, 5, 1 << 20):  # the verdict and the line must not depend on where chunks end
        with pytest.raises(InputError, match=message):
            list(iter_json_list(path, chunk_bytes=chunk))


def test_reader_names_the_line_of_invalid_utf8_and_accepts_a_bom(tmp_path):
    path = tmp_path / "t.json"
    path.write_bytes(b'[\n"a",\n"\xff"]')
    with pytest.raises(InputError, match=r"t.json:3: invalid UTF-8 \(byte 0xff\)"):
        list(iter_json_list(path, chunk_bytes=2))
    path.write_bytes(b'\xef\xbb\xbf[1, 2.5]\n')
    assert list(iter_json_list(path, chunk_bytes=1)) == [1, 2.5]


def test_numbers_cut_by_a_chunk_boundary_are_read_whole(tmp_path):
    path = tmp_path / "t.json"
    path.write_text("[12345, 1.5e3, true, -0.25]")
    for chunk in range(1, 30):
        assert list(iter_json_list(path, chunk_bytes=chunk)) == [12345, 1500.0, True, -0.25]


def file_hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_preprocess_writes_aligned_datasets_deterministically(tmp_path, caplog):
    src = tmp_path / "json"
    for split, seed in (("train", 0), ("valid", 1), ("test", 2)):
        games = synthetic(5, seed)
        if split == "train":
            games[3]["summary"] = []
        write_json(src, split, games)
    with caplog.at_level(logging.WARNING, logger="preprocess.rotowire"):
        stats = preprocess(src, tmp_path / "a", progress=False)
    assert "skipped 1 game(s) with an empty summary (indices 3)" in caplog.text
    assert (stats["train"].games, stats["train"].kept, stats["train"].empty_summaries) == (5, 4, [3])
    preprocess(src, tmp_path / "b", progress=False)
    assert file_hashes(tmp_path / "a") == file_hashes(tmp_path / "b")
    assert not [p for p in (tmp_path / "a").iterdir() if ".tmp" in p.name]

    out = tmp_path / "a"
    assert (out / "train.ids.txt").read_text().split() == ["0", "1", "2", "4"]
    games = json.loads((src / "train.json").read_text())
    kept = [games[i] for i in (0, 1, 2, 4)]
    dicts = {n: Dictionary.load(str(out / f"dict.{n}.txt")) for n in RECORD_FIELDS + (TARGET_FIELD,)}
    datasets = {n: data_utils.load_indexed_dataset(str(out / f"train.{n}"), dicts[n], "mmap") for n in dicts}
    references = (out / "train.tgt.txt").read_text().splitlines()
    for i, game in enumerate(kept):
        records = extract_records(game, i)
        for f, name in enumerate(RECORD_FIELDS):
            assert dicts[name].string(datasets[name][i]).split() == [r[f] for r in records]
        target = datasets[TARGET_FIELD][i]
        assert target[-1].item() == dicts[TARGET_FIELD].eos()
        assert dicts[TARGET_FIELD].string(target).split() == game["summary"] == references[i].split()
    # valid/test use the training dictionaries: symbols unseen in train become <unk>.
    valid = data_utils.load_indexed_dataset(str(out / "valid.value"), dicts["value"], "mmap")
    assert len(valid) == 5 and stats["valid"].unknown["value"] == sum(
        int((valid[i] == dicts["value"].unk()).sum()) for i in range(5)
    )


def test_bad_game_fails_the_run_naming_file_index_key_and_leaves_no_output(tmp_path, capsys):
    src = tmp_path / "json"
    games = synthetic(4)
    del games[2]["vis_line"]["TEAM-PTS"]
    write_json(src, "train", games)
    code = rotowire.main(
        ["--input-dir", str(src), "--dest", str(tmp_path / "out"), "--splits", "train", "--no-progress"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.endswith("train.json:1: game 2: missing required key 'vis_line.TEAM-PTS'\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["json"]  # no dest, no temporary folder


def test_cli_cap_and_dictionary_reuse(tmp_path):
    src = tmp_path / "json"
    src.mkdir()
    write_split(src / "train.json", generate_games(4, 0), 4, progress=False)
    write_split(src / "test.json", generate_games(2, 0, "test"), 2, progress=False)
    assert (
        rotowire.main(
            [
                "--input-dir",
                str(src),
                "--dest",
                str(tmp_path / "a"),
                "--splits",
                "train",
                "--max-records",
                "50",
                "--no-progress",
            ]
        )
        == 0
    )
    lines = (tmp_path / "a" / "train.value.txt").read_text().splitlines()
    assert [len(line.split()) for line in lines] == [50] * 4
    assert (
        rotowire.main(
            [
                "--input-dir",
                str(src),
                "--dest",
                str(tmp_path / "b"),
                "--splits",
                "test",
                "--dict-dir",
                str(tmp_path / "a"),
                "--no-progress",
            ]
        )
        == 0
    )
    for name in RECORD_FIELDS + (TARGET_FIELD,):
        assert (tmp_path / "a" / f"dict.{name}.txt").read_bytes() == (
            tmp_path / "b" / f"dict.{name}.txt"
        ).read_bytes()
    assert rotowire.main(["--input-dir", str(src), "--dest", str(tmp_path / "c"), "--max-records", "0"]) == 2
    assert (
        rotowire.main(
            ["--input-dir", str(src), "--dest", str(tmp_path / "c"), "--splits", "test", "--no-progress"]
        )
        == 2
    )


def test_record_extraction_needs_neither_torch_nor_fairseq():
    """Serving a record model reads games with preprocess.rotowire.records alone."""
    probe = "import sys, preprocess.rotowire.records; print(sorted({'torch', 'fairseq'} & set(sys.modules)))"
    assert run([PY, "-c", probe]).stdout.strip() == "[]"


def test_format_error_is_a_user_error_naming_file_line_game_and_key():
    err = RotowireFormatError(3, "summary").in_file("train.json", 812)
    assert isinstance(err, UserError) and isinstance(err, ValueError)
    assert str(err) == "train.json:812: game 3: missing required key 'summary'"
    assert (err.source, err.line, err.game_index, err.key) == ("train.json", 812, 3, "summary")


@pytest.mark.parametrize(
    "path, value, message",
    [
        ("home_line.TEAM-PTS", {"a": 1}, "expected a string or number, got dict, for 'home_line.TEAM-PTS'"),
        ("box_score.PTS.0", [1], "expected a string or number, got list, for 'box_score.PTS.0'"),
        ("home_city", ["x"], "expected a string or number, got list, for 'home_city'"),
        ("summary", "a b c", "expected a list of tokens for 'summary'"),
    ],
)
def test_containers_where_a_cell_belongs_are_refused(path, value, message):
    """A list or object in a cell used to become a token like "{'a':_1}": silent garbage."""
    game = synthetic(1)[0]
    *parents, last = path.split(".")
    parent = game
    for part in parents:
        parent = parent[part]
    parent[last] = value
    with pytest.raises(RotowireFormatError, match=rf"^game 0: {message}$"):
        extract_records(game, 0)
        summary_tokens(game, 0)


def test_summary_tokens_must_be_scalars():
    game = synthetic(1)[0]
    game["summary"] = ["The", {"x": 1}]
    with pytest.raises(RotowireFormatError, match=r"game 0: expected a string token, got dict, for 'summary.1'"):
        summary_tokens(game, 0)


def test_record_fields_have_one_definition():
    """The task, the model and the preprocessing use the records module's tuple; no copy exists."""
    import re

    from helpers import ROOT

    from preprocess.rotowire import records
    from tlm_fairseq.models import rotowire as model
    from tlm_fairseq.tasks import data_to_text as task

    for module in (task, model, rotowire):
        assert module.RECORD_FIELDS is records.RECORD_FIELDS
    assert task.TARGET_FIELD is rotowire.TARGET_FIELD is records.TARGET_FIELD
    assignment = re.compile(r"^\s*(RECORD_FIELDS|TARGET_FIELD)\s*(:[^=\n]*)?=(?!=)", re.M)
    defined = sorted(
        str(path.relative_to(ROOT))
        for folder in ("tlm_fairseq", "preprocess", "export", "scripts", "benchmarks")
        for path in (ROOT / folder).rglob("*.py")
        if assignment.search(path.read_text(encoding="utf-8"))
    )
    assert defined == ["preprocess/rotowire/records.py"]
