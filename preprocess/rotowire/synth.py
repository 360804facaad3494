"""Synthetic Rotowire games in exactly the original JSON schema, for the demo, tests and benchmarks.

The real dataset is not shipped, so this writes look-alike splits: 30 NBA teams with fixed rosters,
13 listed players per team (visitors first, starters first, some who did not play, "N/A" cells),
and box / line scores that add up (points = 2*FGM + FG3M + FTM, team points = sum of player points =
sum of quarter points, REB = OREB + DREB, percentages from makes and attempts). The templated
summary states the score, records and the leading players' numbers, so a model can learn to copy
values from records into text. Same seed, same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from tlm_fairseq.cli import CliParser, run_cli
from tlm_fairseq.errors import UserError
from tlm_fairseq.files import atomic_write

TEAMS: tuple[tuple[str, str], ...] = (
    ("Atlanta", "Hawks"), ("Boston", "Celtics"), ("Brooklyn", "Nets"), ("Charlotte", "Hornets"),
    ("Chicago", "Bulls"), ("Cleveland", "Cavaliers"), ("Dallas", "Mavericks"), ("Denver", "Nuggets"),
    ("Detroit", "Pistons"), ("Golden State", "Warriors"), ("Houston", "Rockets"), ("Indiana", "Pacers"),
    ("Los Angeles", "Clippers"), ("Los Angeles", "Lakers"), ("Memphis", "Grizzlies"), ("Miami", "Heat"),
    ("Milwaukee", "Bucks"), ("Minnesota", "Timberwolves"), ("New Orleans", "Pelicans"),
    ("New York", "Knicks"), ("Oklahoma City", "Thunder"), ("Orlando", "Magic"),
    ("Philadelphia", "76ers"), ("Phoenix", "Suns"), ("Portland", "Trail Blazers"),
    ("Sacramento", "Kings"), ("San Antonio", "Spurs"), ("Toronto", "Raptors"), ("Utah", "Jazz"),
    ("Washington", "Wizards"),
)  # fmt: skip
FIRST_NAMES = (
    "Aaron Al Andre Anthony Ben Brandon Carl Chris Damian Darren DeAndre Dennis Derrick Devin Dwight "
    "Elton Eric Evan Gordon Harrison Isaiah Jamal Jarrett Jeff JJ Jonas Jordan Kemba Kevin Kyle "
    "LaMarcus Luke Marcus Mike Nikola Otto Patrick Paul Rajon Reggie Rudy Serge Shelvin Tobias Trey "
    "Tyson Victor Willie Zach"
).split()
LAST_NAMES = (
    "Adams Allen Anderson Barnes Bazemore Beal Bogut Brooks Butler Carroll Conley Crawford Davis "
    "Dedmon Drummond Ellis Evans Frye Gasol George Gibson Gordon Green Harris Hayward Holiday "
    "Horford Ibaka Jackson Jenkins Johnson Jones Korver Lee Lopez Marble Millsap Morris Noah Parker "
    "Payton Randolph Robinson Rose Scott Smith Teague Thompson Tucker Turner Walker Wall Williams "
    "Young"
).split() + ["Mbah a Moute", "Van Vleet", "O'Quinn", "Hollis-Jefferson"]
POSITIONS = ("F", "F", "C", "G", "G")
LINE_KEYS = (
    "TEAM-PTS_QTR2", "TEAM-FT_PCT", "TEAM-PTS_QTR1", "TEAM-PTS_QTR4", "TEAM-PTS_QTR3", "TEAM-CITY",
    "TEAM-PTS", "TEAM-AST", "TEAM-LOSSES", "TEAM-NAME", "TEAM-WINS", "TEAM-REB", "TEAM-TOV",
    "TEAM-FG3_PCT", "TEAM-FG_PCT",
)  # fmt: skip
BOX_COLUMNS = (
    "TO", "FIRST_NAME", "MIN", "REB", "FG3A", "PLAYER_NAME", "AST", "FG3M", "OREB", "FGM",
    "START_POSITION", "PF", "PTS", "FGA", "STL", "FTA", "BLK", "DREB", "FTM", "FT_PCT", "FG_PCT",
    "FG3_PCT", "SECOND_NAME", "TEAM_CITY",
)  # fmt: skip
ROSTER_SIZE, LISTED, TEAM_MINUTES = 15, 13, 240
Player = dict[str, Any]


def _pct(made: int, attempted: int) -> int:
    return round(100 * made / attempted) if attempted else 0


def _made(rng: random.Random, attempts: int, rate: float) -> int:
    return sum(rng.random() < rate for _ in range(attempts))


def build_rosters(seed: int) -> dict[str, list[tuple[str, str]]]:
    """Fixed (first, second) names per team, unique league-wide, so player/team links are learnable."""
    rng = random.Random(f"rosters-{seed}")
    pool = [(f, s) for f in FIRST_NAMES for s in LAST_NAMES]
    rng.shuffle(pool)
    return {name: pool[i * ROSTER_SIZE : (i + 1) * ROSTER_SIZE] for i, (_, name) in enumerate(TEAMS)}


def _minutes(rng: random.Random, played: int) -> list[int]:
    """Minutes for the players who played (starters first) adding up to 240."""
    starters = [rng.randint(26, 38) for _ in range(5)]
    bench = played - 5
    left = TEAM_MINUTES - sum(starters)
    weights = [rng.uniform(0.3, 1.0) for _ in range(bench)]
    shares = [max(1, int(left * w / sum(weights))) for w in weights]
    shares[0] += left - sum(shares)
    return starters + shares


def _player_line(rng: random.Random, minutes: int) -> Player:
    fga = round(minutes * rng.uniform(0.15, 0.5))
    fg3a = _made(rng, fga, rng.uniform(0.1, 0.5))
    fg3m = _made(rng, fg3a, 0.36)
    fgm = fg3m + _made(rng, fga - fg3a, rng.uniform(0.38, 0.6))
    fta = round(minutes * rng.uniform(0.0, 0.25))
    ftm = _made(rng, fta, 0.77)
    oreb, dreb = round(minutes * rng.uniform(0, 0.08)), round(minutes * rng.uniform(0.05, 0.3))
    return {
        "MIN": minutes, "FGM": fgm, "FGA": fga, "FG_PCT": _pct(fgm, fga), "FG3M": fg3m, "FG3A": fg3a,
        "FG3_PCT": _pct(fg3m, fg3a), "FTM": ftm, "FTA": fta, "FT_PCT": _pct(ftm, fta),
        "OREB": oreb, "DREB": dreb, "REB": oreb + dreb, "AST": round(minutes * rng.uniform(0, 0.22)),
        "TO": round(minutes * rng.uniform(0, 0.1)), "STL": round(minutes * rng.uniform(0, 0.06)),
        "BLK": round(minutes * rng.uniform(0, 0.05)), "PF": min(6, round(minutes * rng.uniform(0, 0.12))),
        "PTS": 2 * fgm + fg3m + ftm,
    }  # fmt: skip


def _team(rng: random.Random, city: str, roster: list[tuple[str, str]]) -> list[Player]:
    """13 listed players, starters first; 1-4 of the bench did not play (all cells "N/A")."""
    listed = rng.sample(roster, LISTED)
    played = LISTED - rng.randint(1, 4)
    players = []
    for slot, ((first, second), minutes) in enumerate(zip(listed, _minutes(rng, played) + [0] * LISTED)):
        names = {
            "FIRST_NAME": first,
            "SECOND_NAME": second,
            "PLAYER_NAME": f"{first} {second}",
            "TEAM_CITY": city,
        }
        stats = _player_line(rng, minutes) if slot < played else {}
        position = POSITIONS[slot] if slot < 5 else "N/A"
        players.append(names | {"START_POSITION": position} | stats)
    return players


def _quarters(rng: random.Random, points: int) -> list[int]:
    cuts = sorted(rng.randint(points * i // 4 - 6, points * i // 4 + 6) for i in (1, 2, 3))
    return [b - a for a, b in zip([0] + cuts, cuts + [points])]


def _line(
    rng: random.Random, city: str, name: str, players: list[Player], games_played: int
) -> dict[str, str]:
    def total(key: str) -> int:
        return sum(p.get(key, 0) for p in players)

    wins = round(games_played * rng.betavariate(4, 4))
    q1, q2, q3, q4 = _quarters(rng, total("PTS"))
    line = {
        "TEAM-PTS": total("PTS"), "TEAM-PTS_QTR1": q1, "TEAM-PTS_QTR2": q2, "TEAM-PTS_QTR3": q3,
        "TEAM-PTS_QTR4": q4, "TEAM-FG_PCT": _pct(total("FGM"), total("FGA")),
        "TEAM-FG3_PCT": _pct(total("FG3M"), total("FG3A")), "TEAM-FT_PCT": _pct(total("FTM"), total("FTA")),
        "TEAM-REB": total("REB"), "TEAM-AST": total("AST"), "TEAM-TOV": total("TO"),
        "TEAM-WINS": wins, "TEAM-LOSSES": games_played - wins, "TEAM-CITY": city, "TEAM-NAME": name,
    }  # fmt: skip
    return {key: str(line[key]) for key in LINE_KEYS}


def _box_score(players: list[Player]) -> dict[str, dict[str, str]]:
    return {col: {str(i): str(p.get(col, "N/A")) for i, p in enumerate(players)} for col in BOX_COLUMNS}


def _summary(
    rng: random.Random, day: dt.date, teams: dict[str, tuple[str, str, dict[str, str], list[Player]]]
) -> list[str]:
    """Rotowire-style tokens: score and records, quarter and team stats, then the leading players."""
    home, vis = teams["home"], teams["vis"]
    winner, loser = (home, vis) if int(home[2]["TEAM-PTS"]) > int(vis[2]["TEAM-PTS"]) else (vis, home)
    (wc, wn, wl, _), (lc, ln, ll, _) = winner, loser
    verb = rng.choice(["defeated", "beat", "topped", "held off"])
    half_w = int(wl["TEAM-PTS_QTR1"]) + int(wl["TEAM-PTS_QTR2"])
    half_l = int(ll["TEAM-PTS_QTR1"]) + int(ll["TEAM-PTS_QTR2"])
    text = (
        f"The {wc} {wn} ( {wl['TEAM-WINS']} - {wl['TEAM-LOSSES']} ) {verb} the {lc} {ln} "
        f"( {ll['TEAM-WINS']} - {ll['TEAM-LOSSES']} ) {wl['TEAM-PTS']} - {ll['TEAM-PTS']} "
        f"on {day.strftime('%A')} . "
        f"The score was {half_w} - {half_l} at halftime , and the {wn} scored {wl['TEAM-PTS_QTR4']} points "
        f"in the fourth quarter to the {ln} ' {ll['TEAM-PTS_QTR4']} . "
        f"{wc} shot {wl['TEAM-FG_PCT']} percent from the field and {wl['TEAM-FG3_PCT']} percent from "
        f"three - point range , while {lc} shot {ll['TEAM-FG_PCT']} percent and committed "
        f"{ll['TEAM-TOV']} turnovers . The {wn} finished with {wl['TEAM-REB']} rebounds and "
        f"{wl['TEAM-AST']} assists , the {ln} with {ll['TEAM-REB']} and {ll['TEAM-AST']} . "
    )
    for _, team_name, _, players in (winner, loser):
        leaders = sorted((p for p in players if "PTS" in p), key=lambda p: -p["PTS"])[: rng.randint(4, 6)]
        for rank, p in enumerate(leaders):
            name = p["PLAYER_NAME"]
            if rank == 0:
                text += (
                    f"{name} led the {team_name} with {p['PTS']} points on {p['FGM']} - of - {p['FGA']} "
                    f"shooting , adding {p['REB']} rebounds and {p['AST']} assists in {p['MIN']} minutes . "
                )
            elif p["PTS"] >= 10 and (p["REB"] >= 10 or p["AST"] >= 10):
                text += (
                    f"{name} recorded a double - double with {p['PTS']} points , "
                    f"{p['REB']} rebounds and {p['AST']} assists . "
                )
            elif p["FG3M"] >= 3:
                text += f"{name} hit {p['FG3M']} three - pointers on his way to {p['PTS']} points . "
            else:
                verb = rng.choice(["added", "chipped in", "contributed"])
                text += f"{name} {verb} {p['PTS']} points and {p['REB']} rebounds . "
            if p["STL"] + p["BLK"] >= 3:
                text += f"He also had {p['STL']} steals and {p['BLK']} blocks . "
        bench = sum(p["PTS"] for p in players[5:] if "PTS" in p)
        made, tried = sum(p.get("FTM", 0) for p in players), sum(p.get("FTA", 0) for p in players)
        text += (
            f"The {team_name} bench combined for {bench} points , "
            f"and the team made {made} of {tried} free throws . "
        )
    nxt = rng.choice([t for t in TEAMS if t[1] not in (wn, ln)])
    when = rng.choice(["Friday", "Saturday", "Sunday", "Monday"])
    text += f"The {wn} will {rng.choice(['host', 'visit'])} the {nxt[0]} {nxt[1]} on {when} ."
    return text.split()


def generate_game(rng: random.Random, rosters: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    """One game; the two teams never tie (real games go to overtime)."""
    (home_city, home_name), (vis_city, vis_name) = rng.sample(TEAMS, 2)
    day = dt.date(2014, 10, 28) + dt.timedelta(days=rng.randint(0, 3 * 365))
    games_played = rng.randint(0, 80)
    while True:
        vis = _team(rng, vis_city, rosters[vis_name])
        home = _team(rng, home_city, rosters[home_name])
        if sum(p.get("PTS", 0) for p in vis) != sum(p.get("PTS", 0) for p in home):
            break
    home_line = _line(rng, home_city, home_name, home, games_played)
    vis_line = _line(rng, vis_city, vis_name, vis, max(0, games_played + rng.randint(-1, 1)))
    teams = {"home": (home_city, home_name, home_line, home), "vis": (vis_city, vis_name, vis_line, vis)}
    return {
        "home_name": home_name, "box_score": _box_score(vis + home), "home_city": home_city,
        "vis_name": vis_name, "summary": _summary(rng, day, teams), "vis_line": vis_line,
        "vis_city": vis_city, "day": day.strftime("%m_%d_%y"), "home_line": home_line,
    }  # fmt: skip


def generate_games(count: int, seed: int, split: str = "train") -> Iterator[dict[str, Any]]:
    """``count`` games of one split; the split name is part of the seed so splits differ."""
    rosters = build_rosters(seed)
    rng = random.Random(f"{split}-{seed}")
    for _ in range(count):
        yield generate_game(rng, rosters)


def write_split(path: Path, games: Iterator[dict[str, Any]], total: int, progress: bool = True) -> None:
    """Stream a JSON list to ``path`` atomically (bounded memory, never a partial file)."""
    with atomic_write(path) as handle:
        handle.write("[")
        for i, game in enumerate(tqdm(games, total=total, desc=f"{path.name}", unit="game", disable=not progress)):
            handle.write((", " if i else "") + json.dumps(game))
        handle.write("]\n")


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="python -m preprocess.rotowire.synth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--train", type=int, default=3398, help="games in train.json (real: 3398)")
    parser.add_argument("--valid", type=int, default=727, help="games in valid.json (real: 727)")
    parser.add_argument("--test", type=int, default=728, help="games in test.json (real: 728)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    return parser


def _main(args: argparse.Namespace) -> int:
    for split in ("train", "valid", "test"):
        if getattr(args, split) < 0:
            raise UserError(f"--{split} must not be negative")
    for split in ("train", "valid", "test"):
        count = getattr(args, split)
        write_split(
            args.out_dir / f"{split}.json", generate_games(count, args.seed, split), count, not args.no_progress
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m preprocess.rotowire.synth --out-dir DIR``: write train/valid/test.json."""
    return run_cli(build_parser(), _main, None if argv is None else list(argv))


if __name__ == "__main__":
    sys.exit(main())
