"""BLEU, Treebank tokenization and content statistics for Rotowire, and the evaluation script's parts."""

import importlib.util
import json
import sys

import pytest
from conftest import ROOT
from nltk.tokenize.treebank import TreebankWordDetokenizer

from tlm_fairseq.scoring.bleu import content_stats, corpus_bleu, treebank_tokenize


@pytest.fixture(scope="module")
def eval_script():
    spec = importlib.util.spec_from_file_location("eval_rotowire", ROOT / "scripts" / "eval_rotowire.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_rotowire"] = module
    spec.loader.exec_module(module)
    return module


def test_treebank_tokenization_matches_the_dataset_on_a_raw_sentence():
    raw = (
        "The Atlanta Hawks (46-12) beat the Orlando Magic (19-41) 95-88 on Friday. "
        "Al Horford had a good all-around game, putting up 17 points."
    )
    assert (
        treebank_tokenize(raw)
        == (
            "The Atlanta Hawks ( 46 - 12 ) beat the Orlando Magic ( 19 - 41 ) 95 - 88 on Friday . "
            "Al Horford had a good all - around game , putting up 17 points ."
        ).split()
    )
    assert treebank_tokenize("J.R. Smith's night vs. Miami.") == [
        "J.R.",
        "Smith",
        "'s",
        "night",
        "vs.",
        "Miami",
        ".",
    ]


def test_treebank_tokenization_round_trips_the_real_summary(shared_data):
    path = shared_data / "rotowire" / "sample_game.json"
    if not path.is_file():
        pytest.skip(f"the real Rotowire sample game {path} is absent")
    tokens = json.loads(path.read_text())[0]["summary"]
    raw = TreebankWordDetokenizer().detokenize(tokens).replace(" - ", "-")
    assert "(46-12)" in raw and "Friday's" in raw  # really raw text
    assert treebank_tokenize(raw) == tokens


def test_bleu_known_value_and_tokenize_option():
    # precisions 5/6, 4/5, 3/4, 2/3, no brevity penalty: BLEU = (1/3) ** (1/4)
    result = corpus_bleu(["a b c d e f"], ["a b c d e g"])
    assert result.score == pytest.approx(100 * (1 / 3) ** 0.25, abs=1e-6)
    assert "tok:none" in result.signature and "nrefs:1" in result.signature
    # "none" scores the given tokens: a glued period is a different token; 13a splits it off.
    assert corpus_bleu(["the Hawks won the game."], ["the Hawks won the game ."], "none").score < 70
    assert corpus_bleu(
        ["the Hawks won the game."], ["the Hawks won the game ."], "13a"
    ).score == pytest.approx(100)
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        corpus_bleu(["a", "b"], ["a"])


def test_content_stats_counts_numbers_found_in_records():
    stats = content_stats(
        "Horford scored 17 points , 13 rebounds and 99 steals in 3.5 quarters".split(),
        ["17", "13", "Al_Horford"],
    )
    assert (stats.length, stats.numbers, stats.supported) == (13, 4, 2)
    assert stats.share == 0.5
    assert content_stats(["no", "numbers"], ["1"]).share is None


def test_generate_output_is_put_back_in_input_order(tmp_path, eval_script):
    log = tmp_path / "generate-test.txt"
    log.write_text(
        "S-1\tignored\nT-1\tref\nH-1\t-0.5\tsecond game\nD-1\t-0.5\tsecond game\n"
        "H-2\t-0.1\t\nH-0\t-0.2\tfirst game\nP-0\t-0.1 -0.2\nGenerate test with beam=5: BLEU4 = 1.0\n"
    )
    assert eval_script.parse_generate_output(log, 3) == ["first game", "second game", ""]
    with pytest.raises(ValueError, match="no hypothesis for 1 of 4 games"):
        eval_script.parse_generate_output(log, 4)
    with pytest.raises(ValueError, match="H-2 but the split has 2 games"):
        eval_script.parse_generate_output(log, 2)


def test_eval_script_scores_raw_hypotheses(tmp_path, eval_script, capsys):
    data = tmp_path / "bin"
    data.mkdir()
    (data / "test.tgt.txt").write_text("The Hawks ( 46 - 12 ) won 95 - 88 .\nVucevic had 21 points .\n")
    (data / "test.value.txt").write_text("46 12 95 88 Hawks\n21 Nikola_Vucevic 15\n")
    hyps = tmp_path / "hyps.txt"
    hyps.write_text("The Hawks (46-12) won 95-88.\nVucevic had 22 points.\n")
    out = tmp_path / "ordered.txt"
    code = eval_script.main(["--data", str(data), "--hyps", str(hyps), "--raw-hyps", "--output", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "0\t12\t4\t4\t1.000" in printed and "1\t5\t1\t0\t0.000" in printed
    assert "numbers found among the game's record values: 4/5 (80.0%)" in printed
    assert "signature: nrefs:1|case:mixed|eff:no|tok:none" in printed and "tok:13a" in printed
    assert out.read_text().splitlines()[0] == "The Hawks ( 46 - 12 ) won 95 - 88 ."
    hyps.write_text("only one line\n")
    assert eval_script.main(["--data", str(data), "--hyps", str(hyps)]) == 2
    assert "1 hypotheses, 2 references" in capsys.readouterr().err
