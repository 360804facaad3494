"""A copy model through the user's commands: fairseq-train --copy, fairseq-generate prints copied
values as their strings (a value absent from the target vocabulary is generated exactly), and
scripts/eval_rotowire.py reports record support on the output."""

import json
from collections import Counter

import pytest
import torch
from helpers import PY, ROOT, TINY_MODEL_ARGS, fairseq_cmd, run

from tlm_fairseq.checkpoints import load_checkpoint
from tlm_fairseq.generation_output import best_hypotheses

GAMES = {"train": 16, "valid": 3, "test": 4}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Every summary token is below the target threshold: the vocabulary holds only <s> <pad> </s>
    <unk> (and fairseq's padding symbols), so any real word in the output was copied."""
    work = tmp_path_factory.mktemp("rotowire_copy_e2e")
    run([PY, "-m", "preprocess.rotowire.synth", "--out-dir", work / "json", *[f"--{k}={v}" for k, v in GAMES.items()],
         "--no-progress"])  # fmt: skip
    run([PY, "-m", "preprocess.rotowire", "--input-dir", work / "json", "--dest", work / "bin",
         "--threshold-tgt", "1000000", "--no-progress"])  # fmt: skip
    run([
        *fairseq_cmd("train"), work / "bin", "--user-dir", ROOT / "tlm_fairseq", "--task", "data_to_text",
        "--arch", "tlm_transformer_rotowire", "--copy", *TINY_MODEL_ARGS, "--tlm-rate", "0.1",
        "--criterion", "label_smoothed_cross_entropy_copy", "--label-smoothing", "0.1",
        "--optimizer", "adam", "--lr", "1e-3", "--max-tokens", "2048", "--max-update", "2",
        "--save-dir", work / "ckpt", "--no-epoch-checkpoints", "--log-format", "simple",
        "--seed", "1", "--cpu", "--num-workers", "0",
    ])  # fmt: skip
    return work


def generate(work, checkpoint, *extra):
    out = run([*fairseq_cmd("generate"), work / "bin", "--user-dir", ROOT / "tlm_fairseq", "--task", "data_to_text",
               "--path", checkpoint, "--gen-subset", "test", "--max-len-a", "0", "--cpu", *extra])  # fmt: skip
    return out.stdout, [h.text.split() for h in best_hypotheses(out.stdout.splitlines(), GAMES["test"])]


def test_checkpoint_holds_the_copy_layer_and_plain_vocabulary(trained):
    state = load_checkpoint(str(trained / "ckpt" / "checkpoint_last.pt"))
    assert state["cfg"]["model"].copy is True
    assert state["model"]["decoder.copy_layer.gate.weight"].shape == (1, 32 + 32 + 32)
    dictionary = (trained / "bin" / "dict.tgt.txt").read_text().split()
    assert all(word.startswith("madeupword") for word in dictionary[::2])


def steer(trained):
    """Steered checkpoint: gate ~ 0 (copy only) and a zero copy query (uniform attention over the
    records), so greedy search copies the value that most records of the game hold, every step.
    Returns it and that value per test game."""
    state = load_checkpoint(str(trained / "ckpt" / "checkpoint_last.pt"))
    state["model"]["decoder.copy_layer.gate.bias"].fill_(-30.0)
    state["model"]["decoder.copy_layer.query.weight"].zero_()
    steered = trained / "steered.pt"
    torch.save(state, steered)
    values = (trained / "bin" / "test.value.txt").read_text().splitlines()
    expected = []
    for line in values:
        (top, count), (_, second) = Counter(line.split()).most_common(2)
        assert count > second, "the test needs one most frequent value per game"
        expected.append(top)
    return steered, expected


def test_a_value_outside_the_vocabulary_is_generated_exactly(trained):
    steered, expected = steer(trained)
    for batch_size in ("1", "3"):  # one game per batch, and batches whose games differ in values
        _, hyps = generate(trained, steered, "--beam", "1", "--max-len-b", "4", "--batch-size", batch_size)
        assert hyps == [[value] * 4 for value in expected]


def test_the_exported_model_copies_the_same_values(trained, tmp_path):
    """tlm-export, then tlm-generate on the games' JSON: the copied out-of-vocabulary value of each
    game, as fairseq-generate prints it (the full parity tests are in tests/export/test_copy_export.py)."""
    steered, expected = steer(trained)
    run([PY, "-m", "export.onnx_export", "--checkpoint", steered, "--data", trained / "bin", "--out", tmp_path / "onnx"])
    assert json.loads((tmp_path / "onnx" / "config.json").read_text())["source"]["copy"] is True
    out = run([PY, "-m", "export.generate", "--model-dir", tmp_path / "onnx", "--input", trained / "json" / "test.json",
               "--beam", "1", "--max-len-b", "4", "--threads", "1", "--batch-size", "3"])  # fmt: skip
    assert [line.split() for line in out.stdout.splitlines()] == [[value] * 4 for value in expected]


def test_beam_search_prints_only_vocabulary_words_and_the_games_own_values(trained):
    printed, hyps = generate(trained, trained / "ckpt" / "checkpoint_last.pt", "--beam", "3", "--max-len-b", "12",
                             "--batch-size", "3")  # fmt: skip
    vocabulary = set((trained / "bin" / "dict.tgt.txt").read_text().split()[::2]) | {"<unk>"}
    values = (trained / "bin" / "test.value.txt").read_text().splitlines()
    for hyp, game_values in zip(hyps, values):
        assert 1 <= len(hyp) <= 12
        assert set(hyp) <= vocabulary | set(game_values.split())
    summaries = (trained / "bin" / "test.tgt.txt").read_text().splitlines()
    references = {int(line[2:].split("\t")[0]): line.split("\t")[1].split()
                  for line in printed.splitlines() if line.startswith("T-")}  # fmt: skip
    assert sorted(references) == [0, 1, 2, 3]
    for game, words in references.items():  # copy targets print as the value, the rest as <<unk>>
        tokens, game_values = summaries[game].split(), set(values[game].split())
        assert len(words) == len(tokens)
        assert all(w == t if t in game_values else w == "<<unk>>" for w, t in zip(words, tokens))


def test_eval_script_reports_record_support_of_a_copy_model(trained, tmp_path):
    scores = tmp_path / "scores.json"
    out = run([
        PY, ROOT / "scripts" / "eval_rotowire.py", "--data", trained / "bin", "--split", "test",
        "--path", trained / "ckpt" / "checkpoint_last.pt", "--beam", "2", "--max-len-b", "10", "--batch-size", "2",
        "--json", scores, "--quiet", "--", "--cpu",
    ])  # fmt: skip
    assert "<unk> in the outputs: " in out.stdout
    assert "relation precision (approximate; entity-number pairs backed by a record of that entity): " in out.stdout
    assert "the references under the same proxies: numbers" in out.stdout
    result = json.loads(scores.read_text())
    assert result["games"] == 4 and 0 <= result["reference_relation_precision"] <= 1
