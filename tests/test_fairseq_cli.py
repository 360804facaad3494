"""The user's path: fairseq-train --user-dir tlm_fairseq, fairseq-generate, checkpoint safety, 2-process CPU."""
import os
import re
from pathlib import Path

import pytest
import torch

from helpers import ENV, PY, ROOT, TINY_MODEL_ARGS, fairseq_cmd, run
from tlm_fairseq.checkpoints import UnsafeCheckpointError, load_checkpoint
from tlm_fairseq.generation_output import best_hypotheses

TRAIN = [
    "--user-dir", str(ROOT / "tlm_fairseq"), "--arch", "tlm_transformer", *TINY_MODEL_ARGS,
    "--tlm-rate", "0.1", "--tlm-mode", "both", "--drophead-rate", "0.1",
    "--optimizer", "adam", "--lr", "3e-3", "--max-tokens", "1000", "--no-epoch-checkpoints",
    "--log-format", "simple", "--log-interval", "1", "--seed", "3",
]


@pytest.fixture(scope="module")
def trained(reverse_data_bin, tmp_path_factory):
    save = tmp_path_factory.mktemp("ckpt")
    run(fairseq_cmd("train") + [reverse_data_bin, *TRAIN, "--cpu", "--max-update", "30", "--save-dir", save])
    return save / "checkpoint_best.pt"


def test_train_then_generate_with_weights_only_loading(trained, reverse_data_bin):
    assert trained.is_file()
    out = run(fairseq_cmd("generate") + [reverse_data_bin, "--user-dir", ROOT / "tlm_fairseq", "--path", trained,
                                         "--beam", "2", "--cpu", "--batch-size", "8"])
    assert len(best_hypotheses(out.stdout.splitlines(), 20)) == 20  # every test sentence, none twice
    assert "Generate test with beam=2" in out.stdout
    state = load_checkpoint(str(trained))
    assert state["cfg"]["model"].arch == "tlm_transformer"


def test_generate_without_user_dir_shows_why_the_user_dir_is_needed(trained, reverse_data_bin):
    """Plain fairseq-generate fails on torch>=2.6 (weights_only); the user-dir's allowlist is what fixes it."""
    result = run(fairseq_cmd("generate") + [reverse_data_bin, "--path", trained, "--cpu"], check=False,
                 env={**ENV, "PYTHONPATH": ""}, cwd=Path("/"))
    assert result.returncode != 0
    assert "argparse.Namespace" in result.stderr


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_malicious_checkpoint_is_refused(trained, reverse_data_bin, tmp_path):
    state = torch.load(trained, weights_only=True)
    state["extra_state"]["payload"] = Exploit()
    evil = tmp_path / "evil.pt"
    torch.save(state, evil)

    with pytest.raises(UnsafeCheckpointError, match=r"evil\.pt.*(posix|os)\.system"):
        load_checkpoint(str(evil))
    result = run(fairseq_cmd("generate") + [reverse_data_bin, "--user-dir", ROOT / "tlm_fairseq", "--path", evil,
                                            "--cpu"], check=False, cwd=tmp_path)
    assert result.returncode != 0
    assert re.search(r"GLOBAL (posix|os)\.system", result.stderr)
    assert not (tmp_path / "PWNED").exists()
    assert not Path("PWNED").exists()


def test_two_process_cpu_data_parallel_training(reverse_data_bin, tmp_path):
    """Two gloo processes on loopback train one model: each update sums both ranks' batches."""
    save = tmp_path / "ddp"
    result = run([PY, ROOT / "scripts" / "launch_cpu_distributed.py", "--nprocs", "2", "--",
                  reverse_data_bin, *TRAIN, "--max-update", "6", "--save-dir", save, "--max-epoch", "2"])
    log = result.stdout + result.stderr
    assert "distributed init (rank 0)" in log and "initialized host" in log
    epoch = re.search(r"\| train \| epoch 001 \|.*?\| bsz ([\d.]+) \| num_updates (\d+)", log)
    assert epoch, log[-2000:]
    bsz, updates = float(epoch.group(1)), int(epoch.group(2))
    assert abs(bsz * updates - 400) < 1, "an update must see both ranks' sentences (400 in all)"
    assert (save / "checkpoint_last.pt").is_file()
