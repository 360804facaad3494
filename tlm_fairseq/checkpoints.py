"""Let torch's ``weights_only`` loading read fairseq checkpoints, and nothing else.

torch >= 2.6 unpickles checkpoints with ``weights_only=True``; fairseq checkpoints also hold the
training configuration (argparse and omegaconf objects), which that unpickler refuses. We allowlist
exactly those types, so any other global in a pickle (for example one that runs code) is still refused.
"""
import argparse
import re

import torch

# What `torch.serialization.get_unsafe_globals_in_checkpoint` reports for checkpoints written by
# fairseq-train (legacy models store their argparse arguments under cfg["model"]); every other
# part of a fairseq checkpoint is made of dicts, lists, numbers, strings and tensors.
FAIRSEQ_CHECKPOINT_GLOBALS = [argparse.Namespace]

torch.serialization.add_safe_globals(FAIRSEQ_CHECKPOINT_GLOBALS)


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint's pickle asks for something other than fairseq's plain data."""


def load_checkpoint(path: str) -> dict:
    """Load a fairseq checkpoint on CPU with ``weights_only=True``, naming the file on refusal."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # torch raises pickle.UnpicklingError (and RuntimeError for bad zips)
        unsafe = sorted(set(re.findall(r"GLOBAL ([\w.]+)", str(err))))
        detail = f" (it asks for {', '.join(unsafe)})" if unsafe else ""
        raise UnsafeCheckpointError(
            f"{path}: refused to load: not a plain fairseq checkpoint{detail}; "
            f"only these types are allowed besides tensors and containers: "
            f"{', '.join(t.__module__ + '.' + t.__qualname__ for t in FAIRSEQ_CHECKPOINT_GLOBALS)}"
        ) from err
