"""Let torch's ``weights_only`` loading read fairseq checkpoints, and nothing else.

torch >= 2.6 unpickles checkpoints with ``weights_only=True``; fairseq checkpoints also hold the
training configuration (argparse and omegaconf objects), which that unpickler refuses. We allowlist
exactly those types, so any other global in a pickle (for example one that runs code) is still refused.
"""
import argparse
import os
import re
import zipfile

import torch

from .errors import UserError

# What `torch.serialization.get_unsafe_globals_in_checkpoint` reports for checkpoints written by
# fairseq-train (legacy models store their argparse arguments under cfg["model"]); every other
# part of a fairseq checkpoint is made of dicts, lists, numbers, strings and tensors.
FAIRSEQ_CHECKPOINT_GLOBALS = [argparse.Namespace]

torch.serialization.add_safe_globals(FAIRSEQ_CHECKPOINT_GLOBALS)


class CheckpointError(UserError, RuntimeError):
    """A checkpoint cannot be read: truncated, empty, not a torch file; the message names it."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint's pickle asks for something other than fairseq's plain data."""


def verify_archive(path: str) -> None:
    """Refuse a checkpoint that is empty, not a torch zip archive, or has a corrupted member.

    torch does not check the zip CRCs when it loads, so flipped bytes inside the weights load
    without a word and the model then produces garbage; ``zipfile`` checks every member's CRC.
    """
    if os.path.getsize(path) == 0:
        raise CheckpointError(f"{path}: cannot read checkpoint (the file is empty)")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: cannot read checkpoint (not a torch zip archive: truncated, or another kind of file)")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise CheckpointError(f"{path}: cannot read checkpoint (damaged zip archive: {err})") from None
    if bad is not None:
        raise CheckpointError(f"{path}: cannot read checkpoint (member {bad} fails its CRC check: the file is corrupted)")


def load_checkpoint(path: str) -> dict:
    """Load a fairseq checkpoint on CPU with ``weights_only=True``, naming the file on refusal.

    The archive is verified first (:func:`verify_archive`), so a truncated or corrupted file is
    one clear error instead of a traceback or, worse, silently wrong weights.
    """
    verify_archive(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # torch raises pickle.UnpicklingError (and RuntimeError for bad zips)
        unsafe = sorted(set(re.findall(r"GLOBAL ([\w.]+)", str(err))))
        if not unsafe:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise CheckpointError(f"{path}: cannot read checkpoint ({type(err).__name__}: {reason[:200]})") from err
        detail = f" (it asks for {', '.join(unsafe)})" if unsafe else ""
        raise UnsafeCheckpointError(
            f"{path}: refused to load: not a plain fairseq checkpoint{detail}; "
            f"only these types are allowed besides tensors and containers: "
            f"{', '.join(t.__module__ + '.' + t.__qualname__ for t in FAIRSEQ_CHECKPOINT_GLOBALS)}"
        ) from err
