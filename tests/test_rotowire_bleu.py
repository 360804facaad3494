"""BLEU, Treebank tokenization and content statistics for Rotowire, and the evaluation command."""

import json
import sys

import pytest
from helpers import PY, ROOT, run
from nltk.tokenize.treebank import TreebankWordDetokenizer

from tlm_fairseq.generation_output import GenerationError
from tlm_fairseq.scoring import rotowire_eval
from tlm_fairseq.scoring.bleu import content_stats, corpus_bleu, treebank_tokenize


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


def test_generate_output_is_put_back_in_input_order(tmp_path):
    log = tmp_path / "generate-test.txt"
    log.write_text(
        "S-1\tignored\nT-1\tref\nH-1\t-0.5\tsecond game\nD-1\t-0.5\tsecond game\n"
        "H-2\t-0.1\t\nH-0\t-0.2\tfirst game\nH-0\t-0.9\tworse first game\nP-0\t-0.1 -0.2\n"
        "Generate test with beam=5: BLEU4 = 1.0\n"
    )
    assert rotowire_eval.read_generate_output(log, 3) == ["first game", "second game", ""]
    with pytest.raises(GenerationError, match=r"generate-test.txt: 3 hypotheses for 4 inputs; missing ids \[3\]"):
        rotowire_eval.read_generate_output(log, 4)
    with pytest.raises(GenerationError, match=r"3 hypotheses for 2 inputs; unexpected ids \[2\]"):
        rotowire_eval.read_generate_output(log, 2)


def test_a_hypothesis_with_unicode_line_separators_stays_one_game(tmp_path):
    """U+2028 or U+0085 inside a summary must not split it (str.splitlines would shift every game)."""
    log = tmp_path / "generate-test.txt"
    log.write_text("H-1\t-0.5\tb\u2028c\nH-0\t-0.2\ta\x85z\n", encoding="utf-8")
    assert rotowire_eval.read_generate_output(log, 2) == ["a\x85z", "b\u2028c"]


@pytest.fixture()
def data(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "test.tgt.txt").write_text("The Hawks ( 46 - 12 ) won 95 - 88 .\nVucevic had 21 points .\n")
    (folder / "test.value.txt").write_text("46 12 95 88 Hawks\n21 Nikola_Vucevic 15\n")
    return folder


def test_eval_scores_raw_hypotheses(tmp_path, data, capsys):
    hyps = tmp_path / "hyps.txt"
    hyps.write_text("The Hawks (46-12) won 95-88.\nVucevic had 22 points.\n")
    out = tmp_path / "ordered.txt"
    code = rotowire_eval.main(["--data", str(data), "--hyps", str(hyps), "--raw-hyps", "--output", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "0\t12\t4\t4\t1.000" in printed and "1\t5\t1\t0\t0.000" in printed
    assert "numbers found among the game's record values: 4/5 (80.0%)" in printed
    assert "signature: nrefs:1|case:mixed|eff:no|tok:none" in printed and "tok:13a" in printed
    assert out.read_text().splitlines()[0] == "The Hawks ( 46 - 12 ) won 95 - 88 ."
    assert out.stat().st_mode & 0o777 == 0o666 & ~current_umask()  # a normal file, not mkstemp's 0600


def current_umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def one_error(argv, capsys) -> str:
    capsys.readouterr()
    assert rotowire_eval.main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("eval_rotowire: error: "), lines
    return lines[0].removeprefix("eval_rotowire: error: ")


def test_eval_errors_are_one_line_and_come_before_any_work(tmp_path, data, capsys):
    hyps = tmp_path / "hyps.txt"
    hyps.write_text("only one line\n")
    assert one_error(["--data", str(data), "--hyps", str(hyps)], capsys) == (
        f"1 hypotheses ({hyps}), 2 references ({data / 'test.tgt.txt'}), 2 record lines ({data / 'test.value.txt'})"
    )
    log = tmp_path / "generate-test.txt"
    log.write_text("H-0\t-0.2\tfirst game\n")
    assert one_error(["--data", str(data), "--generate-output", str(log)], capsys) == (
        f"{log}: 1 hypotheses for 2 inputs; missing ids [1]"
    )
    missing = tmp_path / "none.pt"
    assert one_error(["--data", str(data), "--path", str(missing)], capsys) == f"{missing}: checkpoint not found"
    assert one_error(["--data", str(data), "--hyps", str(hyps), "--output", str(tmp_path)], capsys) == (
        f"--output {tmp_path} is a folder"
    )
    assert one_error(["--data", str(tmp_path), "--hyps", str(hyps)], capsys) == f"{tmp_path / 'test.tgt.txt'}: cannot open: No such file or directory"
    (data / "test.value.txt").write_bytes(b"1 2\n\xff\n")
    assert one_error(["--data", str(data), "--hyps", str(hyps)], capsys) == (
        f"{data / 'test.value.txt'}:2: invalid UTF-8 (byte 0xff at byte 1)"
    )
    (data / "test.value.txt").write_text("")
    (data / "test.tgt.txt").write_text("")
    assert one_error(["--data", str(data), "--hyps", str(hyps)], capsys) == f"{data / 'test.value.txt'}: no games in the split"
    with pytest.raises(SystemExit) as exit_:  # argparse errors leave through CliParser.error
        rotowire_eval.main(["--data", str(data)])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "eval_rotowire: error: one of the arguments --path --generate-output --hyps is required\n"


def test_a_failing_fairseq_generate_is_one_line(tmp_path, data, capsys, monkeypatch):
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"not a checkpoint")
    monkeypatch.setattr(rotowire_eval, "generate_command", lambda args, results: [sys.executable, "-c", "raise SystemExit(3)"])
    capsys.readouterr()
    assert rotowire_eval.main(["--data", str(data), "--path", str(checkpoint)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("running: ") and lines[1:] == [
        "eval_rotowire: error: fairseq-generate failed with exit status 3 (its messages are above)"
    ]


def test_generate_command_passes_options_after_the_double_dash(tmp_path, data):
    args = rotowire_eval.build_parser().parse_args(["--data", str(data), "--path", "m.pt", "--beam", "2"])
    args.gen_args = ["--cpu", "--lenpen", "1.2"]
    command = rotowire_eval.generate_command(args, tmp_path)
    assert command[1:3] == ["-m", "fairseq_cli.generate"] and command[-3:] == ["--cpu", "--lenpen", "1.2"]
    assert command[command.index("--user-dir") + 1] == str(ROOT / "tlm_fairseq")
    assert command[command.index("--beam") + 1] == "2"


def test_the_script_is_a_thin_launcher_that_needs_no_torch(tmp_path, data):
    hyps = tmp_path / "hyps.txt"
    hyps.write_text("The Hawks ( 46 - 12 ) won 95 - 88 .\nVucevic had 21 points .\n")
    out = run([PY, ROOT / "scripts" / "eval_rotowire.py", "--data", data, "--hyps", hyps, "--quiet"])
    assert "BLEU (tokenized text, --tokenize none) = 100.00" in out.stdout
    probe = "import sys, tlm_fairseq.scoring.rotowire_eval; print(sorted({'torch', 'fairseq'} & set(sys.modules)))"
    assert run([PY, "-c", probe]).stdout.strip() == "[]"
