"""tlm-strip-checkpoint: plain fairseq and CTranslate2 load our text checkpoints (issue 12)."""
import argparse
import zipfile

import pytest
import torch
from helpers import TINY_MODEL_ARGS
from helpers import ENV, PY, ROOT, fairseq_cmd, run

from tlm_fairseq.errors import UserError
from tlm_fairseq.strip_checkpoint import strip_state


@pytest.fixture(scope="module")
def trained(reverse_data_bin, tmp_path_factory):
    """A tiny TLM + DropHead model trained for a few updates (weights need not be good, only real)."""
    save = tmp_path_factory.mktemp("strip_ckpt")
    run([*fairseq_cmd("train"), reverse_data_bin, "--user-dir", ROOT / "tlm_fairseq", "--arch", "tlm_transformer_cgec",
         *TINY_MODEL_ARGS, "--tlm-rate", "0.1", "--drophead-rate", "0.1", "--optimizer", "adam", "--lr", "3e-3",
         "--max-tokens", "1000", "--max-update", "120", "--save-dir", save, "--no-epoch-checkpoints", "--cpu",
         "--seed", "3", "--no-progress-bar"])
    return save / "checkpoint_last.pt"


def generate(data_bin, checkpoint, *extra, env=ENV):
    proc = run([*fairseq_cmd("generate"), data_bin, "--path", checkpoint, "--gen-subset", "test", "--beam", "1",
                "--batch-size", "8", "--required-batch-size-multiple", "1", "--cpu", *extra], env=env)
    return sorted(line for line in proc.stdout.splitlines() if line.startswith("H-"))


def test_plain_fairseq_decodes_the_stripped_checkpoint_identically(reverse_data_bin, trained, tmp_path):
    plain = tmp_path / "plain.pt"
    run([PY, "-m", "tlm_fairseq.strip_checkpoint", trained, plain])
    state = torch.load(plain, map_location="cpu", weights_only=False)
    args = state["cfg"]["model"]
    assert isinstance(args, argparse.Namespace) and args.arch == args._name == "transformer"
    assert not any(k.startswith(("tlm_", "drophead")) for k in vars(args)) and args.user_dir is None
    assert "last_optimizer_state" not in state
    ours = generate(reverse_data_bin, trained, "--user-dir", ROOT / "tlm_fairseq")
    # plain fairseq, no --user-dir: fairseq's own loader needs the old unpickler on torch >= 2.6
    theirs = generate(reverse_data_bin, plain, env={**ENV, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"})
    assert len(ours) == 20 and ours == theirs


def test_ctranslate2_converts_with_the_user_dir_allowlist(reverse_data_bin, trained, tmp_path):
    ctranslate2 = pytest.importorskip("ctranslate2", reason="CTranslate2 is an optional dependency")
    plain = tmp_path / "plain.pt"
    run([PY, "-m", "tlm_fairseq.strip_checkpoint", trained, plain])
    out = tmp_path / "ct2"
    # the safe invocation: --user_dir imports tlm_fairseq, which allowlists argparse.Namespace only
    run([PY, "-m", "ctranslate2.converters.fairseq", "--model_path", plain, "--data_dir", reverse_data_bin,
         "--output_dir", out, "--user_dir", ROOT / "tlm_fairseq"])
    translator = ctranslate2.Translator(str(out), device="cpu", inter_threads=1, intra_threads=1)
    sources = [line.split() for line in (reverse_data_bin.parent / "test.src").read_text().splitlines()]
    results = translator.translate_batch(sources, beam_size=1, max_decoding_length=200)  # fairseq: max_len_b 200
    ct2 = [" ".join(r.hypotheses[0]) for r in results]
    ours = {int(h.split("\t")[0][2:]): h.split("\t")[2] for h in generate(reverse_data_bin, trained, "--user-dir", ROOT / "tlm_fairseq")}
    assert [ours[i] for i in range(len(sources))] == ct2


def test_record_models_and_foreign_files_are_refused(trained, tmp_path):
    model = argparse.Namespace(arch="tlm_transformer_rotowire", _name="tlm_transformer_rotowire")
    with pytest.raises(UserError, match="no plain fairseq equivalent"):
        strip_state({"cfg": {"model": model}}, "roto.pt")
    with pytest.raises(UserError, match="already a plain fairseq"):
        strip_state({"cfg": {"model": argparse.Namespace(arch="transformer")}}, "plain.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(trained.read_bytes())
    with zipfile.ZipFile(corrupt) as archive:
        member = max(archive.infolist(), key=lambda i: i.file_size)
    with open(corrupt, "r+b") as fh:  # flip a byte inside the largest tensor's data
        fh.seek(member.header_offset + 30 + len(member.filename.encode()) + len(member.extra) + member.file_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "half.pt").write_bytes(trained.read_bytes()[:5000])
    cases = {"corrupt.pt": "fails its CRC check", "empty.pt": "the file is empty", "half.pt": "not a torch zip archive"}
    for name, message in cases.items():
        proc = run([PY, "-m", "tlm_fairseq.strip_checkpoint", tmp_path / name, tmp_path / "out.pt"], check=False)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and message in lines[0] and name in lines[0], proc.stderr
    assert not (tmp_path / "out.pt").exists()
    proc = run([PY, "-m", "tlm_fairseq.strip_checkpoint", trained, trained], check=False)
    assert proc.returncode == 2 and "must not overwrite the input" in proc.stderr
