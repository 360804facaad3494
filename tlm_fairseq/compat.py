"""Fixes for the fairseq build we run on (ve-fairseq 0.12.3), applied when the user-dir is imported.

ve-fairseq's ``data_utils.batch_by_size`` drops the last batch whenever its size is not a multiple
of ``--required-batch-size-multiple`` (default 8). Upstream fairseq 0.12.2 keeps it. For training
that silently skips a few sentences per epoch; for validation and ``fairseq-generate`` it loses test
sentences (20 sentences in, 16 hypotheses out). We restore upstream behaviour: the tail of
``indices`` that the dropped batch held becomes the last batch again.
"""
import functools

import numpy as np
from fairseq.data import data_utils


def _keep_last_batch(batch_by_size):
    if getattr(batch_by_size, "keeps_last_batch", False):
        return batch_by_size

    @functools.wraps(batch_by_size)
    def wrapper(indices, *args, **kwargs):
        if not isinstance(indices, np.ndarray):
            indices = np.fromiter(indices, dtype=np.int64, count=-1)
        batches = list(batch_by_size(indices, *args, **kwargs))
        covered = sum(len(b) for b in batches)
        if covered < len(indices):  # batches are consecutive slices of indices: only the tail is missing
            batches.append(indices[covered:])
        return batches

    wrapper.keeps_last_batch = True
    return wrapper


data_utils.batch_by_size = _keep_last_batch(data_utils.batch_by_size)
