"""The copy mechanism of tlm_transformer_rotowire: extended-vocabulary bookkeeping, the gate and the
mixture, the loss on a hand-computed example, and that without --copy the model is unchanged."""

import copy
import math

import numpy as np
import pytest
import torch
from fairseq import options, tasks
from helpers import ROOT, TINY_MODEL_ARGS

import tlm_fairseq
from preprocess.rotowire.extended_vocab import decode, extend, extend_target
from preprocess.rotowire.prep import preprocess
from preprocess.rotowire.synth import generate_games, write_split
from tlm_fairseq.criterions.copy_cross_entropy import copy_label_smoothed_nll_loss
from tlm_fairseq.errors import InputError
from tlm_fairseq.models.tlm_transformer import TLMTransformerDecoder
from tlm_fairseq.modules.copy import PointerGenerator, extended_size, mix
from tlm_fairseq.modules.regularized_attention import RegularizedSelfAttention

tlm_fairseq.register()

SYMBOLS = ["<s>", "<pad>", "</s>", "<unk>", "the", "Hawks", "points", "12"]
INDEX = {s: i for i, s in enumerate(SYMBOLS)}


# ---- extended vocabulary -------------------------------------------------------------------------


def test_values_outside_the_vocabulary_get_ids_after_it_in_first_appearance_order():
    vocab = extend(["Hawks", "Kevin_Love", "12", "31", "Kevin_Love", "</s>"], INDEX, len(SYMBOLS), nspecial=4)
    assert vocab.oov == ("Kevin_Love", "31", "</s>")
    assert vocab.source == (5, 8, 7, 9, 8, 10)  # a value spelling a control symbol is a word, never </s>
    assert vocab.size == 11


def test_target_tokens_equal_to_an_oov_value_become_copy_targets_the_rest_unk():
    vocab = extend(["Hawks", "Kevin_Love", "31"], INDEX, len(SYMBOLS), nspecial=4)
    tokens = "Kevin_Love had 31 points for the Hawks , 12".split()
    ids = extend_target(tokens, vocab, INDEX, unk=3)
    assert ids == [8, 3, 9, 6, 3, 4, 5, 3, 7]
    assert decode(ids, vocab, SYMBOLS, "<unk>") == "Kevin_Love <unk> 31 points <unk> the Hawks <unk> 12".split()
    assert decode([10], vocab, SYMBOLS, "<unk>") == ["<unk>"]  # past the game's values


def test_ids_past_the_model_vocabulary_are_not_vocabulary():
    """fairseq-generate appends copied values to the dictionary; they must stay extended ids."""
    index = INDEX | {"Kevin_Love": 8}
    vocab = extend(["Kevin_Love"], index, len(SYMBOLS), nspecial=4)
    assert vocab.source == (8,) and vocab.oov == ("Kevin_Love",)
    assert extend_target(["Kevin_Love", "31"], extend([], index, 8, 4), index, unk=3) == [3, 3]


# ---- gate and mixture ----------------------------------------------------------------------------


def test_hand_built_mixture_and_loss():
    """V = 6, softmax [1,1,1,1,2,4]/10, p_gen 0.75; records copy to ids 5 (in the vocabulary), 6, 6
    (one out-of-vocabulary value) with attention 0.5, 0.25, 0.25."""
    logits = torch.log(torch.tensor([[[1.0, 1, 1, 1, 2, 4]]])).expand(2, 1, 6).contiguous()
    p_gen = torch.full((2, 1, 1), 0.75)
    attn = torch.tensor([[[0.5, 0.25, 0.25]]]).expand(2, 1, 3)
    source = torch.tensor([[5, 6, 6], [5, 6, 6]])
    lprobs = mix(logits, p_gen, attn, source, size=8)  # the batch's other game has two values
    expected = [0.075, 0.075, 0.075, 0.075, 0.15, 0.075 * 4 + 0.125, 0.125]
    assert torch.allclose(lprobs[0, 0, :7].exp(), torch.tensor(expected), atol=1e-7)
    assert lprobs[0, 0, 7] == -math.inf  # no record of this game produces id 7

    flat = lprobs.view(2, 8)
    target = torch.tensor([6, 5])
    loss, nll = copy_label_smoothed_nll_loss(flat, target, epsilon=0.1, vocab_size=6, ignore_index=1)
    hand_nll = -math.log(0.125) - math.log(0.425)
    smooth = -sum(math.log(p) for p in expected[:6])
    eps_i = 0.1 / 5
    assert nll.item() == pytest.approx(hand_nll, rel=1e-6)
    assert loss.item() == pytest.approx((1 - 0.1 - eps_i) * hand_nll + eps_i * 2 * smooth, rel=1e-6)
    loss, nll = copy_label_smoothed_nll_loss(flat, torch.tensor([6, 1]), 0.1, 6, ignore_index=1)
    assert nll.item() == pytest.approx(-math.log(0.125), rel=1e-6)  # the pad target counts nothing


def test_without_copy_entries_the_loss_is_fairseqs():
    from fairseq.criterions.label_smoothed_cross_entropy import label_smoothed_nll_loss

    lprobs = torch.log_softmax(torch.randn(7, 9, generator=torch.Generator().manual_seed(0)), -1)
    target = torch.tensor([0, 3, 1, 8, 2, 1, 5])
    ours = copy_label_smoothed_nll_loss(lprobs, target, 0.1, 9, ignore_index=1)
    theirs = label_smoothed_nll_loss(lprobs, target, 0.1, ignore_index=1)
    assert torch.allclose(ours[0], theirs[0]) and torch.allclose(ours[1], theirs[1])


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_gate_is_a_probability_and_the_mixture_a_distribution(scale):
    gen = torch.Generator().manual_seed(1)
    layer = PointerGenerator(state_dim=8, source_dim=6, input_dim=5)
    with torch.no_grad():
        for p in layer.parameters():
            p.mul_(scale)
    state = torch.randn(2, 3, 8, generator=gen, requires_grad=True)
    source = torch.randn(2, 4, 6, generator=gen)
    padding = torch.tensor([[False, False, False, True], [False, False, False, False]])
    p_gen, attn = layer(state, torch.randn(2, 3, 5, generator=gen), source, padding)
    assert ((p_gen >= 0) & (p_gen <= 1)).all()
    assert (attn[0, :, 3] == 0).all() and torch.allclose(attn.sum(-1), torch.ones(2, 3))
    ids = torch.tensor([[4, 10, 11, 1], [10, 10, 2, 11]])
    lprobs = mix(torch.randn(2, 3, 10, generator=gen) * scale, p_gen, attn, ids, extended_size(ids, 10))
    assert lprobs.shape == (2, 3, 12)
    assert torch.isfinite(lprobs[..., :12]).all()  # both games use both extended ids
    assert torch.allclose(lprobs.exp().sum(-1), torch.ones(2, 3), atol=1e-5)
    lprobs[..., 10].sum().backward()
    assert torch.isfinite(state.grad).all()


def test_gate_extremes_select_one_distribution():
    logits = torch.randn(1, 2, 5)
    attn = torch.tensor([[[0.7, 0.3], [0.2, 0.8]]])
    ids = torch.tensor([[5, 2]])
    only_vocab = mix(logits, torch.ones(1, 2, 1), attn, ids, 6)
    assert torch.allclose(only_vocab[..., :5], torch.log_softmax(logits, -1), atol=1e-6)
    only_copy = mix(logits, torch.zeros(1, 2, 1), attn, ids, 6).exp()
    assert torch.allclose(only_copy[0, :, 5], attn[0, :, 0]) and torch.allclose(only_copy[0, :, 2], attn[0, :, 1])


# ---- the model in a task -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_games(tmp_path_factory):
    raw = tmp_path_factory.mktemp("rotowire_copy_json")
    for split, count in (("train", 8), ("valid", 3), ("test", 3)):
        write_split(raw / f"{split}.json", generate_games(count, 0, split), count, progress=False)
    return raw


@pytest.fixture(scope="module")
def plain_bin(raw_games):
    preprocess(raw_games, raw_games / "bin", max_records=None, progress=False)
    return raw_games / "bin"


@pytest.fixture(scope="module")
def rare_bin(raw_games):
    """Target tokens seen fewer than 8 times are <unk>: most names and numbers."""
    preprocess(raw_games, raw_games / "bin8", max_records=None, threshold_tgt=8, progress=False)
    return raw_games / "bin8"


def build(data_bin, *extra, seed=0):
    args = options.parse_args_and_arch(options.get_training_parser(), [
        str(data_bin), "--user-dir", str(ROOT / "tlm_fairseq"), "--task", "data_to_text",
        "--arch", "tlm_transformer_rotowire", *TINY_MODEL_ARGS, *extra])  # fmt: skip
    task = tasks.setup_task(args)
    task.load_dataset("valid")
    torch.manual_seed(seed)
    return args, task, task.build_model(args)


def fingerprint(model):
    flat = torch.cat([p.detach().double().flatten() for _, p in sorted(model.state_dict().items())])
    weights = torch.arange(flat.numel(), dtype=torch.double) % 97
    return len(model.state_dict()), flat.numel(), float(flat.sum()), float((flat * weights).sum())


def test_without_copy_the_model_is_exactly_the_one_before_copying_existed(plain_bin):
    """Parameters and outputs recorded with the code of commit 9c81952 (before --copy), same seed."""
    _, task, model = build(plain_bin)
    count, numel, total, weighted = fingerprint(model)
    assert (count, numel) == (50, 57218)
    assert total == pytest.approx(178.46469809908922, rel=1e-12)
    assert weighted == pytest.approx(12777.51860742145, rel=1e-12)
    dataset = task.dataset("valid")
    batch = dataset.collater([dataset[i] for i in range(3)])
    assert "src_ext" not in batch["net_input"] and "oov" not in batch
    model.eval()
    with torch.no_grad():
        out = model(**batch["net_input"])
        lprobs = model.get_normalized_probs(out, log_probs=True)
    assert out[0].shape == (3, 332, 272)
    assert float(out[0].double().sum()) == pytest.approx(5078.408906935259, rel=1e-6)
    assert float((out[0].double() ** 2).sum()) == pytest.approx(294239.7242315308, rel=1e-6)
    assert float(lprobs.double().sum()) == pytest.approx(-1694929.386053294, rel=1e-6)


def test_copy_only_adds_the_copy_layer(plain_bin):
    _, _, plain = build(plain_bin)
    _, _, copying = build(plain_bin, "--copy")
    plain_state, copy_state = plain.state_dict(), copying.state_dict()
    extra = sorted(set(copy_state) - set(plain_state))
    assert extra == ["decoder.copy_layer.gate.bias", "decoder.copy_layer.gate.weight", "decoder.copy_layer.query.weight"]
    assert set(plain_state) <= set(copy_state)
    assert all(torch.equal(plain_state[k], copy_state[k]) for k in plain_state)
    assert isinstance(copying.decoder, TLMTransformerDecoder)  # TLM on its self-attentions, unchanged
    assert all(isinstance(layer.self_attn, RegularizedSelfAttention) for layer in copying.decoder.layers)
    assert all(isinstance(layer.self_attn, RegularizedSelfAttention) for layer in copying.encoder.layers)


def test_copy_batches_carry_extended_ids_that_reproduce_the_summary(rare_bin):
    _, task, _ = build(rare_bin, "--copy")
    dataset, tgt = task.dataset("valid"), task.target_dictionary
    vocab_size = len(tgt)
    batch = dataset.collater([dataset[i] for i in range(3)])
    src_ext, target = batch["net_input"]["src_ext"], batch["target"]
    assert src_ext.shape == batch["net_input"]["src_tokens"].shape[:2]
    summaries = (rare_bin / "valid.tgt.txt").read_text().splitlines()
    values = (rare_bin / "valid.value.txt").read_text().splitlines()
    copied = 0
    for row, game in enumerate(batch["id"].tolist()):
        vocab = extend(values[game].split(), tgt.indices, vocab_size, tgt.nspecial)
        assert batch["oov"][row] == vocab.oov
        n = len(vocab.source)
        assert src_ext[row, :n].tolist() == list(vocab.source) and (src_ext[row, n:] == tgt.pad()).all()
        tokens = summaries[game].split()
        ids = target[row, : len(tokens)].tolist()
        assert target[row, len(tokens)] == tgt.eos()
        words = decode(ids, vocab, tgt.symbols, tgt.unk_word)
        for word, token in zip(words, tokens):
            assert word == token or (word == "<unk>" and token not in vocab.oov and token not in tgt.indices)
        copied += sum(i >= vocab_size for i in ids)
    assert copied > 0.1 * sum(len(summaries[g].split()) for g in batch["id"].tolist())
    prev = batch["net_input"]["prev_output_tokens"]
    assert torch.equal(prev[:, 1:], target[:, :-1].masked_fill(target[:, :-1] == tgt.eos(), tgt.pad()))


def test_copy_model_trains_and_a_game_scores_the_same_alone_and_in_a_batch(rare_bin):
    args, task, model = build(rare_bin, "--copy", "--criterion", "label_smoothed_cross_entropy_copy",
                              "--label-smoothing", "0.1")  # fmt: skip
    criterion = task.build_criterion(args)
    dataset = task.dataset("valid")
    batch = dataset.collater([dataset[i] for i in range(3)])
    model.train()
    loss, _, logging = criterion(model, batch)
    assert torch.isfinite(loss)
    loss.backward()
    for name in ("gate.weight", "query.weight"):
        grad = model.decoder.copy_layer.get_parameter(name).grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    model.eval()
    sizes = [len(dataset.copy.oov[i]) for i in range(3)]
    small, large = int(np.argmin(sizes)), int(np.argmax(sizes))
    assert sizes[small] < sizes[large]
    with torch.no_grad():
        alone = dataset.collater([dataset[small]])["net_input"]
        both = dataset.collater([dataset[small], dataset[large]])["net_input"]
        out_alone = model(**alone)[0][0]
        out_both = model(**both)[0][0, : out_alone.size(0)]
    vocab_size = model.decoder.vocab_size
    assert out_alone.size(-1) == vocab_size + sizes[small] and out_both.size(-1) == vocab_size + sizes[large]
    assert torch.allclose(out_both[:, : out_alone.size(-1)], out_alone, atol=1e-5)
    assert (out_both[:, out_alone.size(-1) :] == -math.inf).all()
    assert torch.allclose(torch.logsumexp(out_alone, -1), torch.zeros(out_alone.size(0)), atol=1e-5)


def test_copy_needs_the_text_files_and_checks_them(tmp_path, rare_bin):
    import shutil

    data = tmp_path / "bin"
    shutil.copytree(rare_bin, data)
    lines = (data / "valid.tgt.txt").read_text().splitlines()
    (data / "valid.tgt.txt").write_text("\n".join([lines[0], lines[1] + " extra", lines[2]]) + "\n")
    with pytest.raises(InputError, match=r"valid\.tgt\.txt:2: .* tokens but the binarized summary has"):
        build(data, "--copy")
    (data / "valid.value.txt").unlink()
    with pytest.raises(InputError, match=r"valid\.value\.txt: not found: copy models read the text files"):
        build(data, "--copy")


def test_generator_refuses_what_it_cannot_do_with_copy(rare_bin):
    args, task, model = build(rare_bin, "--copy")
    gen_args = options.parse_args_and_arch(options.get_generation_parser(), [
        str(args.data), "--user-dir", str(ROOT / "tlm_fairseq"), "--task", "data_to_text", "--temperature", "0.7"])
    with pytest.raises(ValueError, match="--temperature is not supported with a --copy model"):
        task.build_generator([model], gen_args)
    plain_args = copy.deepcopy(args)
    plain_args.copy = False
    with pytest.raises(ValueError, match="copy and non-copy models cannot share a task"):
        task.build_model(plain_args)
