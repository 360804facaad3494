"""tlm_transformer: wiring, options, eval-mode equivalence with fairseq's transformer."""
import copy

import pytest
import torch
from fairseq import options
from fairseq.data import Dictionary
from fairseq.models.transformer import TransformerModel
from fairseq.tasks.translation import TranslationTask

import tlm_fairseq  # noqa: F401  (registers the models)
from tlm_fairseq.models.tlm_transformer import TLMTransformerModel
from tlm_fairseq.modules import RegularizedSelfAttention, drophead_scale
from tlm_fairseq.modules import regularized_attention

TINY = [
    "--encoder-layers", "2", "--decoder-layers", "2", "--encoder-embed-dim", "32", "--decoder-embed-dim", "32",
    "--encoder-ffn-embed-dim", "64", "--decoder-ffn-embed-dim", "64",
    "--encoder-attention-heads", "4", "--decoder-attention-heads", "4",
]


def parse(arch: str, *extra: str):
    parser = options.get_training_parser()
    return options.parse_args_and_arch(parser, input_args=["/nonexistent", "--arch", arch, "--cpu", *TINY, *extra])


def dictionary() -> Dictionary:
    d = Dictionary()
    for ch in "abcdefghijklmnopqrstuvwxyz":
        d.add_symbol(ch)
    return d


def build(arch: str, *extra: str, seed: int = 0):
    args = parse(arch, *extra)
    d = dictionary()
    task = TranslationTask(args, d, d)
    torch.manual_seed(seed)
    model = task.build_model(args)
    return model, args


def batch(bsz: int = 3, src_len: int = 9, tgt_len: int = 7, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    d = dictionary()
    src = torch.randint(d.nspecial, len(d), (bsz, src_len), generator=g)
    src[0, :3] = d.pad()  # fairseq pads sources on the left
    src[:, -1] = d.eos()
    prev = torch.randint(d.nspecial, len(d), (bsz, tgt_len), generator=g)
    prev[:, 0] = d.eos()
    prev[1, -2:] = d.pad()  # and targets on the right
    lengths = src.ne(d.pad()).sum(1)
    return src, lengths, prev


def test_architectures_and_defaults():
    model, args = build("tlm_transformer")
    assert isinstance(model, TLMTransformerModel)
    assert (args.tlm_rate, args.tlm_mode, args.tlm_apply_to, args.drophead_rate) == (0.1, "both", "both", 0.0)
    _, cgec = build("tlm_transformer_cgec")
    assert cgec.share_all_embeddings
    big = parse("tlm_transformer_big")
    assert big.encoder_embed_dim == 32 and big.encoder_ffn_embed_dim == 64  # explicit options win
    assert parse("tlm_transformer_big", "--encoder-embed-dim", "1024").encoder_attention_heads == 4


def test_every_self_attention_is_regularized_and_cross_attention_untouched():
    model, _ = build("tlm_transformer", "--tlm-rate", "0.2", "--tlm-mode", "siblings")
    for layer in model.encoder.layers:
        reg = layer.self_attn.regularizer
        assert isinstance(layer.self_attn, RegularizedSelfAttention) and not reg.causal
        assert (reg.tlm_rate, reg.tlm_mode) == (0.2, "siblings")
    for layer in model.decoder.layers:
        assert isinstance(layer.self_attn, RegularizedSelfAttention) and layer.self_attn.regularizer.causal
        assert type(layer.encoder_attn).__name__ == "MultiheadAttention"


@pytest.mark.parametrize("side", ["encoder", "decoder"])
def test_apply_to_one_side(side):
    model, _ = build("tlm_transformer", "--tlm-apply-to", side, "--drophead-rate", "0.1")
    other = "decoder" if side == "encoder" else "encoder"
    assert all(l.self_attn.regularizer.tlm_rate == 0.1 for l in getattr(model, side).layers)
    assert all(l.self_attn.regularizer.tlm_rate == 0.0 for l in getattr(model, other).layers)
    assert all(l.self_attn.regularizer.drophead_rate == 0.1 for l in getattr(model, other).layers)


@pytest.mark.parametrize(
    "flag,value,message",
    [
        ("--tlm-rate", "1.0", r"\[0, 1\)"),
        ("--tlm-rate", "-0.1", r"\[0, 1\)"),
        ("--tlm-rate", "abc", r"\[0, 1\)"),
        ("--drophead-rate", "2", r"\[0, 1\)"),
        ("--tlm-mode", "random", "siblings.*self.*both"),
        ("--tlm-apply-to", "middle", "both.*encoder.*decoder"),
    ],
)
def test_invalid_options_are_argparse_errors(flag, value, message, capsys):
    with pytest.raises(SystemExit):
        parse("tlm_transformer", flag, value)
    err = capsys.readouterr().err
    assert flag in err
    assert pytest.importorskip("re").search(message, err), err


def fairseq_twin(model, args):
    """fairseq's own transformer with the same arguments and weights."""
    twin_args = copy.deepcopy(args)
    twin_args.arch = "transformer"
    d = dictionary()
    twin = TransformerModel.build_model(twin_args, TranslationTask(twin_args, d, d))
    twin.load_state_dict(model.state_dict())
    return twin


def test_eval_mode_is_bit_identical_to_fairseq_transformer():
    model, args = build("tlm_transformer", "--tlm-rate", "0.5", "--drophead-rate", "0.3", "--dropout", "0.3")
    twin = fairseq_twin(model, args)
    assert list(model.state_dict()) == list(twin.state_dict())
    model.eval(), twin.eval()
    src, lengths, prev = batch()
    with torch.no_grad():
        ours, _ = model(src, lengths, prev)
        theirs, _ = twin(src, lengths, prev)
        assert torch.equal(ours, theirs)
        # incremental decoding (the generation path) too
        enc_ours = model.encoder(src, lengths)
        enc_theirs = twin.encoder(src, lengths)
        state_ours, state_theirs = {}, {}
        for t in range(1, prev.size(1) + 1):
            a, _ = model.decoder(prev[:, :t], enc_ours, incremental_state=state_ours)
            b, _ = twin.decoder(prev[:, :t], enc_theirs, incremental_state=state_theirs)
            assert torch.equal(a, b)


def test_same_seed_same_initialization_as_fairseq():
    model, args = build("tlm_transformer", seed=3)
    twin_args = copy.deepcopy(args)
    d = dictionary()
    torch.manual_seed(3)
    twin = TransformerModel.build_model(twin_args, TranslationTask(twin_args, d, d))
    for (name, a), (_, b) in zip(model.state_dict().items(), twin.state_dict().items()):
        assert torch.equal(a, b), name


def test_training_path_without_masking_matches_fairseq_attention():
    """With a vanishing TLM rate the regularized path computes fairseq's attention (up to float error)."""
    model, args = build("tlm_transformer", "--tlm-rate", "1e-12", "--dropout", "0", "--attention-dropout", "0")
    twin = fairseq_twin(model, args)
    model.train(), twin.train()
    src, lengths, prev = batch()
    ours, _ = model(src, lengths, prev)
    theirs, _ = twin(src, lengths, prev)
    nonpad = prev.ne(dictionary().pad())
    torch.testing.assert_close(ours[nonpad], theirs[nonpad], rtol=1e-5, atol=1e-5)


def test_fresh_mask_for_every_layer_and_batch(monkeypatch):
    calls = []
    real = regularized_attention.tlm_mask

    def recording(*args, **kwargs):
        mask = real(*args, **kwargs)
        calls.append((mask.clone(), kwargs.get("causal")))
        return mask

    monkeypatch.setattr(regularized_attention, "tlm_mask", recording)
    model, _ = build("tlm_transformer", "--tlm-rate", "0.3")
    model.train()
    src, lengths, prev = batch(bsz=4, src_len=20, tgt_len=20)
    model(src, lengths, prev)
    model(src, lengths, prev)
    assert [c for _, c in calls] == [False, False, True, True] * 2  # 2 encoder + 2 decoder layers, twice
    masks = [m for m, _ in calls]
    assert len({m.numpy().tobytes() for m in masks}) == len(masks), "a mask was reused"
    model.eval()
    calls.clear()
    with torch.no_grad():
        model(src, lengths, prev)
    assert calls == [], "TLM must not run in eval mode"


def test_training_step_has_finite_loss_and_gradients():
    model, _ = build("tlm_transformer", "--tlm-rate", "0.5", "--drophead-rate", "0.5", "--attention-dropout", "0.1")
    model.train()
    src, lengths, prev = batch(bsz=4, src_len=16, tgt_len=12)
    logits, _ = model(src, lengths, prev)
    loss = logits.log_softmax(-1).mean()
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_drophead_scale_keeps_expected_sum():
    scale = drophead_scale(20000, 8, 0.25, torch.device("cpu"))
    kept = scale > 0
    assert kept.any(dim=1).all()
    per_row = scale.sum(dim=1)
    assert torch.allclose(per_row, torch.full_like(per_row, 8.0))
    assert abs((~kept).float().mean().item() - 0.25) < 0.01
