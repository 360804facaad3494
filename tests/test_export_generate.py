"""tlm-generate: parity with fairseq-generate, search options, runners, CLI behaviour."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest_export import ENV, ROOT, cgec, compare, fairseq_generate, rotowire, tlm_generate  # noqa: F401
from export.generate import Generator
from export.search import SearchOptions, Symbols, beam_search, greedy_search


def test_greedy_is_identical_to_fairseq_beam_1(cgec):
    ref = fairseq_generate(cgec["data"], cgec["checkpoint"], "--beam", "1", "--batch-size", "32")
    ours = tlm_generate(cgec["model_dir"], cgec["test_raw"], "--beam", "1", "--batch-size", "16")
    same, worst, diffs = compare(ref, ours)
    assert same == len(ours) == 200, diffs[:3]
    assert worst < 1e-3


@pytest.mark.parametrize("options", [["--beam", "5"], ["--beam", "4", "--lenpen", "0.6", "--min-len", "6", "--nbest", "3"]])
def test_beam_search_matches_fairseq(cgec, options):
    ref = fairseq_generate(cgec["data"], cgec["checkpoint"], *options, "--batch-size", "32")
    ours = tlm_generate(cgec["model_dir"], cgec["test_raw"], *options, "--batch-size", "24")
    same, worst, diffs = compare(ref, ours)
    assert same >= 0.99 * len(ours), diffs[:3]
    assert worst < 1e-3


@pytest.mark.parametrize("beam", ["1", "3"])
def test_no_repeat_ngram_blocks_like_fairseq_meant(cgec, beam):
    args = ["--beam", beam, "--no-repeat-ngram-size", "2", "--batch-size", "32"]
    ref = fairseq_generate(cgec["data"], cgec["checkpoint"], *args, fix_ngrams=True)
    ours = tlm_generate(cgec["model_dir"], cgec["test_raw"], *args)
    same, worst, diffs = compare(ref, ours)
    assert same >= 0.99 * len(ours) and worst < 1e-3, diffs[:3]
    for record in ours:
        tokens = record["hypotheses"][0]["tokens"].split()
        bigrams = list(zip(tokens, tokens[1:]))
        assert len(bigrams) == len(set(bigrams)), tokens


def test_max_len_a_is_per_sentence_like_fairseq_batch_of_one(cgec):
    # fairseq bounds a batch by its padded width; per sentence, that is fairseq with --batch-size 1.
    opts = ["--beam", "3", "--max-len-a", "0.5", "--max-len-b", "2"]
    ref = fairseq_generate(cgec["data"], cgec["checkpoint"], *opts, "--batch-size", "1", subset="valid")
    ours = tlm_generate(cgec["model_dir"], cgec["valid_raw"], *opts, "--batch-size", "32")
    same, worst, diffs = compare(ref, ours)
    assert same == len(ours) == 20 and worst < 1e-3, diffs[:3]
    lengths = [len(line) + 1 for line in cgec["valid_raw"].read_text().splitlines()]
    assert all(len(r["hypotheses"][0]["tokens"].split()) <= int(0.5 * n + 2) for r, n in zip(ours, lengths))
    assert any(len(r["hypotheses"][0]["tokens"].split()) == int(0.5 * n + 2) for r, n in zip(ours, lengths))


@pytest.mark.parametrize("beam", ["1", "4"])
def test_rotowire_records_match_fairseq(rotowire, beam):
    opts = ["--beam", beam, "--max-len-b", "60"]
    ref = fairseq_generate(rotowire["data"], rotowire["checkpoint"], *opts, "--batch-size", "4",
                           task_args=("--task", "data_to_text"))
    ours = tlm_generate(rotowire["model_dir"], rotowire["games"], *opts, "--batch-size", "3")
    same, worst, diffs = compare(ref, ours)
    assert same == len(ours) == 6 and worst < 1e-3, diffs[:1]


@pytest.fixture(scope="module")
def generator(cgec) -> Generator:
    return Generator(cgec["model_dir"], device="cpu", threads=1)


@pytest.fixture(scope="module")
def sentences(cgec) -> list[str]:
    return cgec["test_raw"].read_text().splitlines()[:40]


def test_results_do_not_depend_on_batching_or_runner(cgec, generator, sentences):
    base = generator.generate(sentences, beam=4, batch_size=40)
    assert [r.output for r in generator.generate(sentences, beam=4, batch_size=1)] == [r.output for r in base]
    bound = Generator(cgec["model_dir"], device="cpu", threads=1, io_binding=True)
    again = bound.generate(sentences, beam=4, batch_size=7)
    assert [r.output for r in again] == [r.output for r in base]
    assert np.allclose([r.score for r in again], [r.score for r in base], atol=1e-5)


def test_float16_graphs_generate_nearly_the_same(cgec, generator, sentences):
    half = Generator(cgec["model_dir"], device="cpu", threads=1, fp16=True)
    assert half.sessions.precision == "float16"
    fp16 = [r.output for r in half.generate(sentences, beam=1)]
    fp32 = [r.output for r in generator.generate(sentences, beam=1)]
    assert sum(a == b for a, b in zip(fp16, fp32)) >= 0.9 * len(sentences)


def test_option_validation(generator):
    assert generator.options(beam=3).nbest == 1
    for bad in ({"beam": 0}, {"nbest": 3, "beam": 2}, {"no_repeat_ngram_size": 1}, {"lenpen": float("nan")},
                {"min_len": -1}, {"bogus": 1}):
        with pytest.raises(ValueError):
            generator.options(**bad)
    with pytest.raises(ValueError, match="min_len 80 is larger than max_len"):
        generator.generate(["我们"], min_len=80)


class ScriptedModel:
    """A decoder whose next-token log-probs depend only on the previous token (a Markov chain)."""

    def __init__(self, table: np.ndarray) -> None:
        self.table = table
        self.kept: list[np.ndarray] = []

    def step(self, tokens: np.ndarray, reorder: np.ndarray) -> np.ndarray:
        return self.table[tokens].copy()

    def keep_sentences(self, keep: np.ndarray) -> None:
        self.kept.append(keep)


def test_search_semantics_on_a_scripted_model():
    # vocab: 0 <s>, 1 <pad>, 2 </s>, 3 <unk>, 4 a, 5 b; row t = distribution after token t
    tiny = [1e-9] * 6
    lp = np.log(np.array([
        tiny, tiny,
        [1e-9, 1e-9, 0.1, 1e-9, 0.6, 0.3],  # after </s> (the start): a is best, then b
        tiny,
        [1e-9, 1e-9, 0.5, 1e-9, 0.2, 0.3],  # after a: </s> is best
        [1e-9, 1e-9, 0.3, 1e-9, 0.6, 0.1],  # after b: a is best
    ], dtype=np.float32))
    sym = Symbols(pad=1, eos=2, unk=3, vocab=6)
    greedy = greedy_search(ScriptedModel(lp), np.array([3]), SearchOptions(beam=1), sym, 64)[0]
    assert greedy[0].tokens == [4, 2]
    assert greedy[0].score == pytest.approx((np.log(0.6) + np.log(0.5)) / 2, abs=1e-6)
    # min_len forbids </s> until 3 tokens were generated; max_len forces it.
    longer = greedy_search(ScriptedModel(lp), np.array([3]), SearchOptions(beam=1, min_len=3), sym, 64)[0]
    assert len(longer[0].tokens) == 4 and longer[0].tokens[-1] == 2
    capped = greedy_search(ScriptedModel(lp), np.array([3]), SearchOptions(beam=1, min_len=0, max_len_b=0), sym, 64)
    assert capped[0][0].tokens == [2]
    beams = beam_search(ScriptedModel(lp), np.array([3, 3]), SearchOptions(beam=2, lenpen=1.0), sym, 64)
    assert [h.tokens for h in beams[0]] == [h.tokens for h in beams[1]]
    assert beams[0][0].tokens == [4, 2] and len(beams[0]) == 2
    assert beams[0][0].score >= beams[0][1].score
    assert np.isclose(sum(beams[0][0].positional_scores), np.log(0.6) + np.log(0.5), atol=1e-6)


def test_cli_keeps_input_order_and_blank_lines(cgec, tmp_path, generator):
    lines = ["我们去学校", "", "好", "你们喜欢吃饭看书写字好不好"]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out" / "hyp.txt"
    stats = tmp_path / "stats.json"
    proc = subprocess.run([sys.executable, "-m", "export.generate", "--model-dir", str(cgec["model_dir"]), "--input",
                           str(src), "--output", str(out), "--beam", "2", "--batch-size", "2", "--threads", "1",
                           "--stats-json", str(stats)], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "on CPUExecutionProvider" in proc.stderr and "1 blank line(s)" in proc.stderr
    expected = [r.output for r in generator.generate([lines[0], lines[2], lines[3]], beam=2)]
    assert out.read_text().splitlines() == [expected[0], "", expected[1], expected[2]]
    assert json.loads(stats.read_text())["sentences"] == 3


def test_cli_input_errors_name_the_file_and_line(cgec, tmp_path):
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "export.generate", "--model-dir", str(cgec["model_dir"]),
                               "--threads", "1", *args], cwd=ROOT, env=ENV, capture_output=True, text=True)

    missing = cli("--input", str(tmp_path / "absent.txt"))
    assert missing.returncode == 2 and f"{tmp_path / 'absent.txt'}: input file not found" in missing.stderr
    long = tmp_path / "long.txt"
    long.write_text("好\n" + "我" * 80 + "\n")
    too_long = cli("--input", str(long), "--output", str(tmp_path / "never.txt"))
    assert too_long.returncode == 2 and f"{long}: line 2: 80 tokens, the model accepts at most 63" in too_long.stderr
    assert not (tmp_path / "never.txt").exists()
    assert "Traceback" not in missing.stderr + too_long.stderr


def test_provider_choice_is_reported(generator):
    from export.runtime import CPU, choose_provider, cuda_usable

    usable, why = cuda_usable()
    assert generator.provider == CPU
    if usable:
        assert choose_provider("auto") == "CUDAExecutionProvider"
    else:
        assert why and choose_provider("auto") == CPU
        with pytest.raises(Exception, match="--device cuda requested but"):
            choose_provider("cuda")


def test_record_inputs_are_checked(rotowire):
    gen = Generator(rotowire["model_dir"], device="cpu", threads=1)
    games = json.loads(Path(rotowire["games"]).read_text())
    assert gen.generate(games[:1], beam=1, max_len_b=5)[0].output
    from export.errors import InputProblem

    with pytest.raises(InputProblem, match="input 0: expected a game object"):
        gen.generate(["not a game"])
    broken = dict(games[0])
    del broken["box_score"]
    with pytest.raises(InputProblem, match="input 0: missing required key 'box_score'"):
        gen.generate([broken])
