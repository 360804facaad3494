"""The data_to_text task and tlm_transformer_rotowire model, in process: batches, masking, generation."""

import numpy as np
import pytest
import torch
from helpers import TINY_MODEL_ARGS
from fairseq import options, tasks
from fairseq.data import ListDataset
from helpers import ROOT

import tlm_fairseq
from preprocess.rotowire.prep import preprocess
from preprocess.rotowire.synth import generate_games, write_split
from tlm_fairseq.tasks.data_to_text import RecordsToTextDataset

# fairseq's --user-dir does not re-import a package that an earlier test imported before fairseq
# (torch-free), so register the models and tasks explicitly, as in-process code must.
tlm_fairseq.register()


@pytest.fixture(scope="module")
def data_bin(tmp_path_factory):
    raw = tmp_path_factory.mktemp("rotowire_json")
    for split, count in (("train", 8), ("valid", 3), ("test", 3)):
        write_split(raw / f"{split}.json", generate_games(count, 0, split), count, progress=False)
    dest = raw / "bin"
    preprocess(raw, dest, max_records=None, progress=False)
    return dest


def parse(data_bin, *extra):
    parser = options.get_training_parser()
    return options.parse_args_and_arch(
        parser,
        [str(data_bin), "--user-dir", str(ROOT / "tlm_fairseq"), "--task", "data_to_text",
         "--arch", "tlm_transformer_rotowire", *TINY_MODEL_ARGS, *extra],
    )  # fmt: skip


@pytest.fixture(scope="module")
def setup(data_bin):
    args = parse(data_bin)
    task = tasks.setup_task(args)
    task.load_dataset("valid")
    torch.manual_seed(0)
    model = task.build_model(args)
    return args, task, model


def test_batches_stack_the_four_fields(setup):
    _, task, _ = setup
    dataset = task.dataset("valid")
    batch = dataset.collater([dataset[i] for i in range(3)])
    src, lengths = batch["net_input"]["src_tokens"], batch["net_input"]["src_lengths"]
    assert src.dim() == 3 and src.shape == (3, int(lengths.max()), 4)
    assert lengths.tolist() == dataset.src_sizes[:3].tolist()
    pad = task.target_dictionary.pad()
    for row, length in enumerate(lengths.tolist()):
        assert (src[row, :length] != pad).all() and (src[row, length:] == pad).all()
    ha = task.field_dictionaries[3]
    assert {ha[i] for i in src[0, : lengths[0], 3].tolist()} == {"HOME", "AWAY"}
    target, prev = batch["target"], batch["net_input"]["prev_output_tokens"]
    assert prev[:, 0].eq(task.target_dictionary.eos()).all()
    assert torch.equal(prev[0, 1 : dataset.tgt_sizes[0]], target[0, : dataset.tgt_sizes[0] - 1])
    assert batch["ntokens"] == int(dataset.tgt_sizes[:3].sum())
    assert task.source_dictionary is None
    assert task.max_positions() == (1024, 1024)


def test_misaligned_fields_are_refused():
    def ds(sizes):
        return ListDataset([torch.ones(n, dtype=torch.long) for n in sizes], np.array(sizes))

    with pytest.raises(ValueError, match="record field 'type' is not aligned with 'value' \\(game 1\\)"):
        RecordsToTextDataset([ds([3, 4]), ds([3, 4]), ds([3, 5]), ds([3, 4])], ds([2, 2]), pad=1, eos=2)


def test_architecture_defaults_fit_rotowire(setup):
    args, _, model = setup
    assert args.max_target_positions >= 1024 and model.decoder.max_positions() >= 1024
    assert model.encoder.max_positions() >= 1024
    assert args.tlm_rate == 0.1 and args.tlm_apply_to == "both"
    assert len(model.encoder.embed_fields) == 3


def test_padding_does_not_change_a_game_and_every_field_matters(setup):
    _, task, model = setup
    model.eval()
    dataset = task.dataset("valid")
    order = np.argsort(dataset.src_sizes)
    short, long = dataset[int(order[0])], dataset[int(order[-1])]
    assert dataset.src_sizes[order[0]] < dataset.src_sizes[order[-1]]
    alone = dataset.collater([short])["net_input"]
    padded = dataset.collater([short, long])["net_input"]
    n = short["source"].size(0)
    with torch.no_grad():
        out_alone = model.encoder(alone["src_tokens"], alone["src_lengths"])["encoder_out"][0][:, 0]
        out_padded = model.encoder(padded["src_tokens"], padded["src_lengths"])["encoder_out"][0][:n, 0]
        assert torch.allclose(out_alone, out_padded, atol=1e-5)
        for field in range(4):
            changed = alone["src_tokens"].clone()
            first_symbol = task.field_dictionaries[field].nspecial
            changed[0, 0, field] = first_symbol + int(changed[0, 0, field] == first_symbol)
            out = model.encoder(changed, alone["src_lengths"])["encoder_out"][0][:, 0]
            assert not torch.allclose(out, out_alone), f"field {field} has no effect"
        with pytest.raises(ValueError, match=r"expected records of shape \(batch, records, 4\)"):
            model.encoder(alone["src_tokens"][..., 0], alone["src_lengths"])


def test_training_step_and_generation_with_3d_sources(setup):
    args, task, model = setup
    dataset = task.dataset("valid")
    batch = dataset.collater([dataset[i] for i in range(3)])
    model.train()
    logits, _ = model(**batch["net_input"])
    assert logits.shape == (*batch["target"].shape, len(task.target_dictionary))
    logits.float().sum().backward()
    assert model.encoder.embed_fields[2].weight.grad.abs().sum() > 0
    model.eval()
    model.zero_grad()
    generator = task.build_generator([model], options.parse_args_and_arch(options.get_generation_parser(), [
        str(args.data), "--user-dir", str(ROOT / "tlm_fairseq"), "--task", "data_to_text",
        "--beam", "2", "--max-len-a", "0", "--max-len-b", "7"]))  # fmt: skip
    with torch.no_grad():
        hypos = task.inference_step(generator, [model], batch)
    assert len(hypos) == 3 and all(1 <= len(h[0]["tokens"]) <= 8 for h in hypos)


def test_other_architectures_are_refused(data_bin):
    args = parse(data_bin)
    args.arch = "tlm_transformer"
    task = tasks.setup_task(args)
    with pytest.raises(ValueError, match="needs a record-reading architecture"):
        task.build_model(args)


def test_missing_dictionary_is_a_clear_error(tmp_path, data_bin):
    args = parse(data_bin)
    args.data = str(tmp_path)
    with pytest.raises(FileNotFoundError, match="dict.value.txt not found"):
        tasks.setup_task(args)
