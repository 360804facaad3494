"""Properties of the TLM mask (the contract in tlm_fairseq.modules.tlm_mask)."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tlm_fairseq.modules import MODES, mask_from_selection, tlm_mask


@st.composite
def padded_batches(draw):
    batch = draw(st.integers(1, 6))
    length = draw(st.integers(1, 24))
    lengths = draw(st.lists(st.integers(1, length), min_size=batch, max_size=batch))
    left = draw(st.booleans())  # fairseq pads sources on the left, targets on the right
    pos = torch.arange(length)
    lens = torch.tensor(lengths)[:, None]
    pad = pos[None, :] < (length - lens) if left else pos[None, :] >= lens
    return pad


common = dict(
    pad=padded_batches(),
    rate=st.floats(0.0, 0.99),
    mode=st.sampled_from(MODES),
    causal=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)


def sample(pad, rate, mode, causal, seed):
    return tlm_mask(pad, rate, mode, causal=causal, generator=torch.Generator().manual_seed(seed))


@settings(max_examples=150, deadline=None)
@given(**common)
def test_shape_rows_and_padding(pad, rate, mode, causal, seed):
    mask = sample(pad, rate, mode, causal, seed)
    batch, length = pad.shape
    assert mask.dtype == torch.bool and mask.shape == (batch, length, length)
    assert mask.any(dim=-1).all(), "a row sees nothing: softmax would give NaN"
    nonpad_rows = mask[~pad]  # [N, T]
    assert not (nonpad_rows & pad.unsqueeze(1).expand_as(mask)[~pad]).any(), "a non-pad query sees padding"
    if causal:
        assert not mask.triu(diagonal=1).any(), "a query sees the future"


def reference_row(pad, selected, siblings, causal, i):
    """Row i of the mask, written straight from the contract, one position at a time."""
    length = len(pad)
    window = range(i + 1) if causal else range(length)
    if pad[i]:
        keys = {j for j in window if not pad[j]}
    elif selected[i] and siblings[i]:
        keys = {i}
    else:  # an unselected token, or a self-masked one: every non-pad unselected key
        keys = {j for j in window if not pad[j] and not selected[j]}
    return keys or {i}


@st.composite
def selections(draw):
    pad = draw(padded_batches())
    batch, length = pad.shape
    bits = st.lists(st.booleans(), min_size=batch * length, max_size=batch * length)
    selected = torch.tensor(draw(bits)).view(batch, length) & ~pad
    siblings = torch.tensor(draw(bits)).view(batch, length) & selected
    return pad, selected, siblings


@settings(max_examples=200, deadline=None)
@given(selection=selections(), causal=st.booleans())
def test_mask_matches_contract_row_by_row(selection, causal):
    pad, selected, siblings = selection
    mask = mask_from_selection(pad, selected, siblings, causal)
    batch, length = pad.shape
    for b in range(batch):
        for i in range(length):
            got = set(torch.nonzero(mask[b, i]).flatten().tolist())
            expected = reference_row(pad[b].tolist(), selected[b].tolist(), siblings[b].tolist(), causal, i)
            assert got == expected, (b, i)


def test_rate_zero_is_plain_padding_mask():
    pad = torch.tensor([[False, False, True], [False, False, False]])
    mask = tlm_mask(pad, 0.0, "both")
    expected = (~pad).unsqueeze(1).expand(2, 3, 3)
    assert torch.equal(mask, expected)


@pytest.mark.parametrize("mode", MODES)
def test_selected_fraction_matches_rate(mode):
    """Over 64k tokens, the share of hidden key columns is within 5 standard deviations of the rate."""
    rate, batch, length = 0.1, 256, 256
    pad = torch.zeros(batch, length, dtype=torch.bool)
    mask = tlm_mask(pad, rate, mode, generator=torch.Generator().manual_seed(0))
    eye = torch.eye(length, dtype=torch.bool)
    hidden = ~(mask & ~eye).any(dim=1)  # [B, T]: no other query sees this key
    n = batch * length
    tolerance = 5 * math.sqrt(rate * (1 - rate) / n)
    assert abs(hidden.float().mean().item() - rate) < tolerance
    if mode == "both":
        siblings = (mask.sum(-1) == 1) & hidden  # a selected token that sees only itself
        share = siblings.sum().item() / hidden.sum().item()
        assert abs(share - 0.5) < 5 * math.sqrt(0.25 / hidden.sum().item())


def test_self_masking_first_target_token_keeps_itself():
    pad = torch.zeros(1, 4, dtype=torch.bool)
    mask = tlm_mask(pad, 0.99, "self", causal=True, generator=torch.Generator().manual_seed(1))
    assert mask[0, 0].tolist() == [True, False, False, False]


def test_deterministic_under_seeded_generator():
    pad = torch.zeros(8, 50, dtype=torch.bool)
    a = tlm_mask(pad, 0.3, "both", generator=torch.Generator().manual_seed(7))
    b = tlm_mask(pad, 0.3, "both", generator=torch.Generator().manual_seed(7))
    c = tlm_mask(pad, 0.3, "both", generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_invalid_rate(rate):
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        tlm_mask(torch.zeros(1, 3, dtype=torch.bool), rate, "both")


def test_invalid_mode():
    with pytest.raises(ValueError, match="siblings, self, both"):
        tlm_mask(torch.zeros(1, 3, dtype=torch.bool), 0.1, "random")
