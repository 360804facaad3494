"""The record-support report of scripts/eval_rotowire.py: number support, the approximate relation
precision (mentions, pairing rule, what counts as backed by a record) and the <unk> rate."""

import json

import pytest
from helpers import PY, run

from tlm_fairseq.scoring import rotowire_eval
from tlm_fairseq.scoring.record_support import GameRecords, find_mentions, mention_forms, record_support, relations

# Two Los Angeles teams (the city is ambiguous) and two players, one of them sharing a first name.
RECORDS = [
    ("Lakers", "Lakers", "TEAM-NAME"), ("Los_Angeles", "Lakers", "TEAM-CITY"), ("102", "Lakers", "TEAM-PTS"),
    ("40", "Lakers", "TEAM-WINS"),
    ("Clippers", "Clippers", "TEAM-NAME"), ("Los_Angeles", "Clippers", "TEAM-CITY"), ("98", "Clippers", "TEAM-PTS"),
    ("Kevin_Love", "Kevin_Love", "PLAYER_NAME"), ("Kevin", "Kevin_Love", "FIRST_NAME"),
    ("Love", "Kevin_Love", "SECOND_NAME"), ("30", "Kevin_Love", "PTS"), ("12", "Kevin_Love", "REB"),
    ("Kevin_Van_Vleet", "Kevin_Van_Vleet", "PLAYER_NAME"), ("Kevin", "Kevin_Van_Vleet", "FIRST_NAME"),
    ("Van_Vleet", "Kevin_Van_Vleet", "SECOND_NAME"), ("7", "Kevin_Van_Vleet", "AST"),
]  # fmt: skip
GAME = GameRecords(*map(list, zip(*RECORDS)))


def test_mentions_are_unambiguous_longest_matches():
    forms = mention_forms(GAME)
    assert forms[("Kevin", "Love")] == "Kevin_Love" and forms[("Love",)] == "Kevin_Love"
    assert forms[("Van", "Vleet")] == "Kevin_Van_Vleet" and forms[("Los", "Angeles", "Lakers")] == "Lakers"
    assert ("Kevin",) not in forms and ("Los", "Angeles") not in forms  # two entities each
    tokens = "Kevin Love and Kevin Van Vleet beat the Los Angeles Clippers , Kevin said".split()
    assert find_mentions(tokens, forms) == [
        (0, 2, "Kevin_Love"), (3, 6, "Kevin_Van_Vleet"), (8, 11, "Clippers"),
    ]  # fmt: skip


def test_numbers_pair_with_the_player_before_them_then_the_team_then_what_follows():
    text = ("Love led the Lakers with 30 points and 11 rebounds . The Lakers won 102 - 98 . "
            "7 assists came from Van Vleet . He added 12 points .")  # fmt: skip
    pairs = [(r.number, r.entity, r.supported) for r in relations(text.split(), GAME)]
    assert pairs == [
        ("30", "Kevin_Love", True), ("11", "Kevin_Love", False),  # the player, not the nearer team
        ("102", "Lakers", True), ("98", "Lakers", False),  # a team's own score; the other team's is a miss
        ("7", "Kevin_Van_Vleet", True),  # no mention before: the first after it
    ]  # "He added 12 points": no mention in the sentence, no pair
    stats = record_support(text.split() + ["<unk>"], GAME)
    assert (stats.numbers, stats.supported_numbers, stats.pairs, stats.supported_pairs, stats.unk) == (6, 5, 5, 3, 1)


def test_misaligned_records_are_refused():
    with pytest.raises(ValueError, match="2 values, 1 entities, 2 types: not aligned"):
        GameRecords(["1", "2"], ["A"], ["PTS", "AST"])


@pytest.fixture()
def data(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    values, entities, types = (" ".join(column) for column in zip(*RECORDS))
    (folder / "test.value.txt").write_text(f"{values}\n{values}\n")
    (folder / "test.entity.txt").write_text(f"{entities}\n{entities}\n")
    (folder / "test.type.txt").write_text(f"{types}\n{types}\n")
    (folder / "test.tgt.txt").write_text("Love had 30 points and 12 rebounds .\nThe Lakers won 102 - 98 .\n")
    return folder


def test_eval_prints_the_record_support_report_and_writes_json(tmp_path, data, capsys):
    hyps = tmp_path / "hyps.txt"
    hyps.write_text("Love had 30 points and 13 rebounds .\nThe <unk> won 102 - 98 .\n")
    scores = tmp_path / "scores.json"
    assert rotowire_eval.main(["--data", str(data), "--hyps", str(hyps), "--quiet", "--json", str(scores)]) == 0
    printed = capsys.readouterr().out
    assert "<unk> in the outputs: 1/15 (6.7%) of tokens" in printed
    assert "numbers found among the game's record values: 3/4 (75.0%)" in printed
    assert ("relation precision (approximate; entity-number pairs backed by a record of that entity): "
            "1/2 (50.0%), 1.0 pairs per game") in printed  # fmt: skip
    assert "the references under the same proxies: numbers 4/4 (100.0%), relations 3/4 (75.0%)" in printed
    result = json.loads(scores.read_text())
    assert result["relation_precision"] == 0.5 and result["reference_relation_precision"] == 0.75
    assert result["unk_rate"] == pytest.approx(1 / 15) and result["number_share"] == 0.75


def test_eval_without_entity_files_says_why_there_is_no_relation_precision(tmp_path, data, capsys):
    (data / "test.type.txt").unlink()
    hyps = tmp_path / "hyps.txt"
    hyps.write_text("a\nb\n")
    assert rotowire_eval.main(["--data", str(data), "--hyps", str(hyps), "--quiet"]) == 0
    assert "relation precision: n/a (needs the split's entity.txt and type.txt)" in capsys.readouterr().out


def test_eval_refuses_entity_files_of_another_split(tmp_path, data, capsys):
    (data / "test.entity.txt").write_text("Lakers\n")
    hyps = tmp_path / "hyps.txt"
    hyps.write_text("a\nb\n")
    assert rotowire_eval.main(["--data", str(data), "--hyps", str(hyps)]) == 2
    assert f"{data / 'test.entity.txt'}: 1 games but 2 lines of values" in capsys.readouterr().err


@pytest.mark.parametrize(
    "module", ["preprocess.rotowire.extended_vocab", "tlm_fairseq.scoring.record_support", "tlm_fairseq.scoring.rotowire_eval"]
)
def test_scoring_and_bookkeeping_stay_torch_free(module):
    probe = f"import sys, json, {module}; print(json.dumps(sorted({{'torch', 'fairseq'}} & set(sys.modules))))"
    assert json.loads(run([PY, "-c", probe]).stdout) == []


def test_user_dir_import_registers_the_copy_criterion():
    probe = ("import fairseq, tlm_fairseq\nfrom fairseq.criterions import CRITERION_REGISTRY\n"
             "print('label_smoothed_cross_entropy_copy' in CRITERION_REGISTRY)")  # fmt: skip
    assert run([PY, "-c", probe]).stdout.strip() == "True"
