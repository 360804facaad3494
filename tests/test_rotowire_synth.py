"""Synthetic Rotowire games: the original schema, numbers that add up, a summary that states them."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preprocess.rotowire import synth as rotowire_synth
from preprocess.rotowire.records import extract_records
from preprocess.rotowire.synth import generate_games


def played(game: dict) -> dict[str, list[str]]:
    """Player keys per city of those who played."""
    box = game["box_score"]
    teams: dict[str, list[str]] = {}
    for p, minutes in box["MIN"].items():
        if minutes != "N/A":
            teams.setdefault(box["TEAM_CITY"][p], []).append(p)
    return teams


def test_schema_matches_the_real_sample_game(shared_data):
    path = shared_data / "rotowire" / "sample_game.json"
    if not path.is_file():
        pytest.skip(f"the real Rotowire sample game {path} is absent")
    real = json.loads(path.read_text())[0]
    fake = next(generate_games(1, 0))
    assert set(fake) == set(real)
    assert set(fake["box_score"]) == set(real["box_score"])
    assert set(fake["home_line"]) == set(real["home_line"]) == set(fake["vis_line"])
    assert len(fake["box_score"]["PTS"]) == len(real["box_score"]["PTS"]) == 26
    for column in fake["box_score"].values():
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in column.items())
    assert all(isinstance(v, str) for v in fake["home_line"].values())
    assert isinstance(fake["summary"], list) and all(
        isinstance(t, str) and " " not in t for t in fake["summary"]
    )
    assert len(fake["day"].split("_")) == 3


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_numbers_are_internally_consistent(seed):
    game = next(generate_games(1, seed))
    box = game["box_score"]
    cities = {game["home_city"]: game["home_line"], game["vis_city"]: game["vis_line"]}
    if len(cities) == 1:  # Lakers v Clippers: the per-city check below does not apply
        return
    for city, players in played(game).items():
        line = cities[city]

        def stat(key: str, p: str) -> int:
            return int(box[key][p])

        for p in players:
            assert stat("PTS", p) == 2 * stat("FGM", p) + stat("FG3M", p) + stat("FTM", p)
            assert stat("REB", p) == stat("OREB", p) + stat("DREB", p)
            assert stat("FG3M", p) <= min(stat("FG3A", p), stat("FGM", p)) and stat("FGM", p) <= stat(
                "FGA", p
            )
            assert stat("FTM", p) <= stat("FTA", p) and stat("PF", p) <= 6
        points = sum(stat("PTS", p) for p in players)
        assert int(line["TEAM-PTS"]) == points == sum(int(line[f"TEAM-PTS_QTR{q}"]) for q in range(1, 5))
        assert all(int(line[f"TEAM-PTS_QTR{q}"]) > 0 for q in range(1, 5))
        assert int(line["TEAM-REB"]) == sum(stat("REB", p) for p in players)
        assert int(line["TEAM-AST"]) == sum(stat("AST", p) for p in players)
        assert int(line["TEAM-TOV"]) == sum(stat("TO", p) for p in players)
        assert sum(stat("MIN", p) for p in players) == 240
        assert sum(box["START_POSITION"][p] != "N/A" for p in players) == 5
    assert game["home_line"]["TEAM-PTS"] != game["vis_line"]["TEAM-PTS"]


def test_summary_mentions_the_score_and_leaders():
    for game in generate_games(20, 3):
        text = " ".join(game["summary"])
        home, vis = game["home_line"]["TEAM-PTS"], game["vis_line"]["TEAM-PTS"]
        high, low = sorted((home, vis), key=int, reverse=True)
        assert f" {high} - {low} " in text
        assert f" {game['home_name']} " in text and f" {game['vis_name']} " in text
        box = game["box_score"]
        top = max((p for p in box["PTS"] if box["PTS"][p] != "N/A"), key=lambda p: int(box["PTS"][p]))
        assert f"{box['PLAYER_NAME'][top]} led the" in text
        assert 150 < len(game["summary"]) < 600


def test_realistic_sizes_and_determinism():
    games = list(generate_games(30, 5))
    assert games == list(generate_games(30, 5))
    assert games != list(generate_games(30, 6))
    assert list(generate_games(3, 5, "train")) != list(generate_games(3, 5, "test"))
    records = [len(extract_records(g, i)) for i, g in enumerate(games)]
    assert 420 < sum(records) / len(records) < 600


def test_cli_writes_valid_json(tmp_path):
    assert (
        rotowire_synth.main(
            ["--out-dir", str(tmp_path), "--train", "3", "--valid", "1", "--test", "0", "--no-progress"]
        )
        == 0
    )
    assert len(json.loads((tmp_path / "train.json").read_text())) == 3
    assert json.loads((tmp_path / "test.json").read_text()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test.json", "train.json", "valid.json"]


def test_cli_errors_are_one_line_and_write_nothing(tmp_path, capsys):
    assert rotowire_synth.main(["--out-dir", str(tmp_path / "o"), "--train", "2", "--test", "-1"]) == 2
    assert capsys.readouterr().err == "python -m preprocess.rotowire.synth: error: --test must not be negative\n"
    assert not (tmp_path / "o").exists()


def test_an_interrupted_split_leaves_no_file(tmp_path):
    def games():
        yield from generate_games(2, 0)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotowire_synth.write_split(tmp_path / "train.json", games(), 3, progress=False)
    assert list(tmp_path.iterdir()) == []
