"""preprocess.cgec.synth: a deterministic synthetic GEC task whose gold edits are exactly right."""
import json
import random

import pytest
from helpers import PY, run

from preprocess.cgec import synth
from tlm_fairseq.scoring import M2Scorer, read_m2


def generate(out, *extra):
    return run([PY, "-m", "preprocess.cgec.synth", "--out", out, "--symbols", "60", "--train", "50",
                "--valid", "30", "--test", "30", *extra], check=False)


def test_gold_edits_turn_sources_into_targets(tmp_path):
    proc = generate(tmp_path / "d")
    assert proc.returncode == 0, proc.stderr
    d = tmp_path / "d"
    for split in ("valid", "test"):
        sources = (d / f"{split}.src").read_text().splitlines()
        targets = (d / f"{split}.tgt").read_text().splitlines()
        gold = read_m2(d / f"{split}.m2")
        assert [g.source for g in gold] == sources
        # the targets score perfectly, the uncorrected sources find nothing, and there are errors to find
        perfect = M2Scorer().corpus_score(targets, gold)
        copy = M2Scorer().corpus_score(sources, gold)
        assert perfect.f == 1.0 and perfect.gold > 10
        assert copy.recall == 0.0 and copy.proposed == 0
    meta = json.loads((d / "synth.json").read_text())
    assert meta["symbols"] == 60 and set(meta["edits"]["train"]) == {"M", "R", "S"}


def test_same_arguments_same_bytes_and_force_replaces_only_own_output(tmp_path):
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    for name in ("train.src", "train.tgt", "test.m2"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    again = generate(tmp_path / "a")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert generate(tmp_path / "a", "--force", "--seed", "1").returncode == 0
    assert (tmp_path / "a" / "train.src").read_bytes() != (tmp_path / "b" / "train.src").read_bytes()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    refused = generate(tmp_path / "mine", "--force")
    assert refused.returncode == 2 and "not an output of this tool" in refused.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_bad_arguments_are_one_line_errors(tmp_path):
    proc = generate(tmp_path / "x", "--min-len", "9", "--max-len", "4")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--min-len" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_errors_are_determined_by_context():
    rng = random.Random(5)
    chain = synth.Chain.build(80, 4, rng)
    for _ in range(300):
        clean = chain.walk(rng.randint(6, 14), rng)
        source, edits = synth.corrupt(chain, clean, rng)
        for start, end, kind, correction in edits:
            if kind == "S":  # the confused symbol cannot follow its left neighbour
                assert start == 0 or not chain.follows(source[start - 1], source[start])
            elif kind == "R":  # a duplicate is never a transition of the chain
                assert source[start] == source[start - 1]
            else:  # a deletion leaves a gap that exactly one symbol bridges
                a, c = source[start - 1], source[start]
                assert not chain.follows(a, c) and [f"w{x}" for x in chain.bridge(a, c)] == [correction]
        # applying the edits right to left gives back the clean sentence
        tokens = [f"w{s}" for s in source]
        for start, end, _, correction in sorted(edits, reverse=True):
            tokens[start:end] = [] if correction == "-NONE-" else [correction]
        assert tokens == [f"w{s}" for s in clean]


@pytest.mark.parametrize("symbols", [5, 9])
def test_chain_needs_enough_symbols(symbols):
    with pytest.raises(Exception, match="--symbols"):
        synth.Chain.build(symbols, 4, random.Random(0))
