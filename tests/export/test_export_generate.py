"""tlm-generate: parity with fairseq-generate, search options, runners, CLI behaviour."""
from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from export.generate import Generator
from export.search import SearchOptions, Symbols, beam_search, greedy_search
from helpers import PY, ROOT, run
from tlm_fairseq.generation_output import iter_hypotheses

Hypotheses = dict[int, list[tuple[float, str]]]


@contextmanager
def fixed_ngram_blocking() -> Iterator[None]:
    """fairseq 0.12's CPU n-gram blocker compares against the padded tail of the token buffer and
    blocks nothing (fairseq issues #4709, #5206); give it the generated prefix, as its CUDA kernel sees."""
    from fairseq import ngram_repeat_block

    cls = ngram_repeat_block.NGramRepeatBlock
    forward = cls.forward
    cls.forward = lambda self, tokens, lprobs, bsz, beam, step: forward(self, tokens[:, : step + 1], lprobs, bsz, beam, step)
    try:
        yield
    finally:
        cls.forward = forward


def fairseq_generate(data: Path, checkpoint: Path, *args: Any, task_args: tuple = (), fix_ngrams: bool = False,
                     subset: str = "test") -> Hypotheses:
    """fairseq-generate's own ``main`` in this process: {id: [(natural-log score, tokens), ...]} best first."""
    import torch
    from fairseq import options
    from fairseq_cli import generate

    import tlm_fairseq

    tlm_fairseq.register()  # --user-dir finds the package already imported (torch-free) by export
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as results:
        argv = [data, "--user-dir", ROOT / "tlm_fairseq", "--path", checkpoint, "--cpu", "--gen-subset", subset,
                "--required-batch-size-multiple", "1", "--results-path", results, *task_args, *args]
        parsed = options.parse_args_and_arch(options.get_generation_parser(), [str(a) for a in argv])
        with fixed_ngram_blocking() if fix_ngrams else contextlib.nullcontext():
            generate.main(parsed)
        out = Path(results) / f"generate-{subset}.txt"
        hyps: Hypotheses = {}
        with open(out, encoding="utf-8") as handle:
            for hyp in iter_hypotheses(handle, str(out)):
                hyps.setdefault(hyp.index, []).append((hyp.natural_log_score, hyp.text))
        return hyps


def tlm_generate(model_dir: Path, inputs: Path, *args: Any) -> list[dict[str, Any]]:
    proc = run([PY, "-m", "export.generate", "--model-dir", model_dir, "--input", inputs,
                "--output-format", "jsonl", "--threads", "1", *args])
    return [json.loads(line) for line in proc.stdout.splitlines()]


def compare(reference: Hypotheses, ours: list[dict[str, Any]]) -> tuple[int, float, list]:
    """(identical inputs, max |score difference| over identical ones, differing examples)."""
    same, worst, diffs = 0, 0.0, []
    assert sorted(reference) == list(range(len(ours))), "fairseq and tlm-generate saw different inputs"
    for record in ours:
        ref = reference[record["index"]]
        hyps = record["hypotheses"]
        if [t for _, t in ref] == [h["tokens"] for h in hyps]:
            same += 1
            worst = max([worst] + [abs(s - h["score"]) for (s, _), h in zip(ref, hyps)])
        else:
            diffs.append((record["index"], ref, hyps))
    return same, worst, diffs


def cli(model_dir: Path, *args: Any, **kwargs: Any) -> subprocess.CompletedProcess:
    """tlm-generate in a subprocess, whatever its exit status."""
    return run([PY, "-m", "export.generate", "--model-dir", model_dir, "--threads", "1", *args], check=False, **kwargs)


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
    bound = Generator(cgec["model_dir"], device="cpu", threads=1, io_binding=True, inplace=False)  # CUDA's runner
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
    with pytest.raises(ValueError, match="min_len: 80 is larger than max_len 63 of input 0"):
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
    proc = cli(cgec["model_dir"], "--input", src, "--output", out, "--beam", "2", "--batch-size", "2",
               "--stats-json", stats)
    assert proc.returncode == 0, proc.stderr
    assert "on CPUExecutionProvider" in proc.stderr and "1 blank line(s)" in proc.stderr
    expected = [r.output for r in generator.generate([lines[0], lines[2], lines[3]], beam=2)]
    assert out.read_text().splitlines() == [expected[0], "", expected[1], expected[2]]
    assert json.loads(stats.read_text())["sentences"] == 3


def test_lines_split_on_newline_only(cgec, tmp_path, generator):
    # U+2028, U+0085 and a form feed are characters inside a sentence, not line breaks: outputs stay
    # aligned with inputs (str.splitlines() would have split them). CRLF endings are accepted.
    lines = ["我们\u2028去学校", "好\x85好", "天气\x0c很好", "你们喜欢"]
    src = tmp_path / "in.txt"
    src.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    proc = cli(cgec["model_dir"], "--input", src, "--beam", "1", "--output-format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["index"] for r in records] == [0, 1, 2, 3]
    expected = generator.generate(lines, beam=1)
    assert [r["output"] for r in records] == [r.output for r in expected]


def test_output_file_gets_normal_permissions(cgec, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("我们去学校\n")
    out = tmp_path / "new.txt"

    def generate(umask: int) -> None:
        proc = cli(cgec["model_dir"], "--input", src, "--output", out, "--beam", "1",
                   preexec_fn=lambda: os.umask(umask))
        assert proc.returncode == 0, proc.stderr

    generate(0o027)  # a new file: 0666 & ~umask, as open() would create it (mkstemp's 0600 before)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    out.chmod(0o644)
    generate(0o022)  # replacing a 0644 file leaves a 0644 file
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert out.read_text().strip() and not [p for p in tmp_path.iterdir() if p.name.startswith(".new.txt")]


def test_cli_input_errors_name_the_file_and_line(cgec, tmp_path):
    model = cgec["model_dir"]
    missing = cli(model, "--input", tmp_path / "absent.txt")
    assert missing.returncode == 2 and f"{tmp_path / 'absent.txt'}: cannot open" in missing.stderr
    long = tmp_path / "long.txt"
    long.write_text("好\n" + "我" * 80 + "\n")
    too_long = cli(model, "--input", long, "--output", tmp_path / "never.txt")
    assert too_long.returncode == 2 and f"{long}:2: 80 tokens, the model accepts at most 63" in too_long.stderr
    assert not (tmp_path / "never.txt").exists()
    bad_utf8 = tmp_path / "latin1.txt"
    bad_utf8.write_bytes("好\n".encode() + "caf\xe9\n".encode("latin-1"))
    undecodable = cli(model, "--input", bad_utf8)
    assert undecodable.returncode == 2 and f"{bad_utf8}:2: invalid UTF-8" in undecodable.stderr
    for proc in (missing, too_long, undecodable):
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()[-1]) > 0


@pytest.mark.parametrize("flag,value,message", [
    ("--lenpen", "1e4", "argument --lenpen: 10000.0 is outside [-10, 10]"),
    ("--lenpen", "nan", "argument --lenpen: must be a finite number, got nan"),
    ("--max-len-a", "-1e300", "argument --max-len-a: -1e+300 is outside [0, 100]"),
    ("--beam", "0", "argument --beam: 0 is outside [1, 128]"),
    ("--beam", "2.5", "argument --beam: expected an integer, got '2.5'"),
    ("--no-repeat-ngram-size", "1", "argument --no-repeat-ngram-size: 1 is not allowed"),
    ("--unkpen", "1e9", "argument --unkpen: 1000000000.0 is outside [-100, 100]"),
    ("--batch-size", "0", "argument --batch-size: must be >= 1, got 0"),
])
def test_cli_option_errors_are_one_line(tmp_path, flag, value, message):
    # Checked by argparse before the model directory is even opened.
    proc = cli(tmp_path / "no-model", f"{flag}={value}")
    assert proc.returncode == 2 and proc.stderr.startswith(f"tlm-generate: error: {message}"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_option_relations_are_checked_before_generating(cgec, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("我们\n")
    proc = cli(cgec["model_dir"], "--input", src, "--beam", "2", "--nbest", "3", "--output", tmp_path / "o.txt")
    assert proc.returncode == 2 and "tlm-generate: error: nbest: 3 is larger than beam 2" in proc.stderr
    proc = cli(cgec["model_dir"], "--input", src, "--min-len", "80", "--output", tmp_path / "o.txt")
    assert proc.returncode == 2 and "min_len: 80 is larger than max_len 63 of input 0" in proc.stderr
    assert not (tmp_path / "o.txt").exists() and "Traceback" not in proc.stderr


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


def test_record_games_as_a_list_or_json_lines_on_stdin(rotowire):
    games = json.loads(Path(rotowire["games"]).read_text())[:2]
    opts = ("--beam", "1", "--max-len-b", "5")
    as_list = cli(rotowire["model_dir"], *opts, input=json.dumps(games, indent=1))
    as_lines = cli(rotowire["model_dir"], *opts, input="".join(json.dumps(g) + "\n" for g in games))
    assert as_list.returncode == as_lines.returncode == 0, as_list.stderr + as_lines.stderr
    assert as_list.stdout == as_lines.stdout and len(as_list.stdout.splitlines()) == 2
    broken = cli(rotowire["model_dir"], *opts, input=json.dumps(games[0]) + "\n{oops\n")
    assert broken.returncode == 2 and "/dev/stdin:2: invalid JSON" in broken.stderr
