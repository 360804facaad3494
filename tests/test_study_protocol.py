"""tlm_fairseq.study.protocol: the same tuning for every method, then test and ablation runs."""
import pytest

from tlm_fairseq.errors import UserError
from tlm_fairseq.study.protocol import Protocol, Run, Setting, parse_fixed
from tlm_fairseq.study.runner import parse_log


def test_default_protocol_plans_tuning_then_test_then_ablation():
    p = Protocol()
    tune = p.tuning_runs()
    assert [r.id for r in tune][:4] == ["none-seed1", "tlm-both-0.05-seed1", "tlm-both-0.1-seed1", "tlm-both-0.2-seed1"]
    assert len(tune) == 10 and {r.seed for r in tune} == {1}
    planned, final = p.planned({})
    assert planned == tune and not final  # the test runs depend on the choice
    losses = {r: 2.0 for r in tune}
    losses[Run(Setting("tlm", 0.2), 1)] = 1.5
    losses[Run(Setting("drophead", 0.05), 1)] = 1.9
    planned, final = p.planned(losses)
    chosen = p.choose(losses)
    assert final and chosen["tlm"] == Setting("tlm", 0.2) and chosen["drophead"] == Setting("drophead", 0.05)
    assert chosen["attention-dropout"] == Setting("attention-dropout", 0.05)  # tie -> smallest rate
    ids = [r.id for r in planned]
    assert "tlm-self-0.2-seed6" in ids and "drophead-0.05-seed2" in ids and "tlm-both-0.2-seed4" in ids
    assert len(planned) == p.total_runs() == 10 + 20 + 10
    # seed by seed: the test runs of seed 2, then its ablation runs, then seed 3
    assert ids[10:16] == ["none-seed2", "tlm-both-0.2-seed2", "drophead-0.05-seed2", "attention-dropout-0.05-seed2",
                          "tlm-siblings-0.2-seed2", "tlm-self-0.2-seed2"]


def test_setting_flags_switch_other_regularizers_off_and_names_round_trip():
    s = Setting("drophead", 0.1)
    assert s.flags() == ["--tlm-rate", "0", "--tlm-mode", "both", "--drophead-rate", "0.1", "--attention-dropout", "0"]
    assert Setting("tlm", 0.05, "self").flags()[:4] == ["--tlm-rate", "0.05", "--tlm-mode", "self"]
    for setting in (Setting("none"), Setting("tlm", 0.05, "siblings"), Setting("attention-dropout", 0.2), s):
        assert Setting.parse(setting.name) == setting
    with pytest.raises(UserError):
        Setting.parse("tlm-sideways-0.1")


def test_fixed_choice_skips_tuning_and_bad_protocols_are_refused():
    p = Protocol(methods=("none", "tlm"), fixed=parse_fixed(["tlm=0.1"]), test_seeds=(2, 3), ablation_seeds=())
    assert p.tuning_runs() == []
    planned, final = p.planned({})
    # seed by seed, so that a study stopped part-way still has paired runs of every method
    assert final and [r.id for r in planned] == ["none-seed2", "tlm-both-0.1-seed2", "none-seed3", "tlm-both-0.1-seed3"]
    with pytest.raises(UserError, match="must not be a test seed"):
        Protocol(test_seeds=(1, 2))
    with pytest.raises(UserError, match="METHOD=RATE"):
        parse_fixed(["tlm"])
    with pytest.raises(UserError, match="unknown method"):
        Protocol(methods=("none", "dropconnect"))


def test_parse_log_reads_the_curve_and_early_stopping():
    log = "\n".join([
        '2026 | INFO | valid | {"epoch": 3, "valid_loss": "3.1", "valid_num_updates": "100"}',
        '2026 | INFO | valid | {"epoch": 5, "valid_loss": "2.5", "valid_num_updates": "200"}',
        '2026 | INFO | valid | {"epoch": 5, "valid_loss": "2.5", "valid_num_updates": "200"}',
        '2026 | INFO | train | {"epoch": 5, "train_loss": "2.0", "train_num_updates": "200"}',
        "2026 | INFO | fairseq_cli.train | early stop since valid performance hasn't improved for last 4 runs",
    ])
    curve, early = parse_log(log)
    assert curve == [[100, 3.1], [200, 2.5]] and early
    assert parse_log(log.rsplit("\n", 1)[0]) == ([[100, 3.1], [200, 2.5]], False)
