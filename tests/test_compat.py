"""The user-dir restores fairseq's batching: no sentence is dropped from the last batch."""
import numpy as np

import tlm_fairseq
from fairseq.data import data_utils

tlm_fairseq.register()  # applies the fix (fairseq's --user-dir import does it by itself)


def test_last_partial_batch_is_kept():
    sizes = np.array([12, 4, 9, 13, 6, 8, 8, 6, 4, 13, 11, 9, 8, 10, 9, 5, 9, 10, 12, 11])
    order = np.argsort(sizes, kind="mergesort")
    batches = data_utils.batch_by_size(order, lambda i: sizes[i], max_sentences=8, required_batch_size_multiple=8)
    assert [len(b) for b in batches] == [8, 8, 4]
    assert np.concatenate(batches).tolist() == order.tolist()


def test_iterator_input_and_token_budget():
    sizes = np.arange(1, 31)
    batches = data_utils.batch_by_size(
        iter(range(30)), None, num_tokens_vec=sizes, max_tokens=60, required_batch_size_multiple=4
    )
    assert np.concatenate(batches).tolist() == list(range(30))
