"""``tlm-strip-checkpoint IN.pt OUT.pt``: a TLM checkpoint as a plain fairseq ``transformer`` one.

In eval mode a ``tlm_transformer*`` model *is* fairseq's transformer: TLM and DropHead live only on
the training path and the parameters have fairseq's names. What stops other tools from loading our
checkpoints is the bookkeeping: the architecture name (CTranslate2's converter refuses
``tlm_transformer``), the ``--user-dir`` recorded in the configuration, and our training-only
options. This rewrites exactly those, keeps the arguments an ``argparse.Namespace`` (CTranslate2's
loader needs attribute access) and drops the optimizer state, which no inference tool reads.

Record (Rotowire) models have no plain fairseq equivalent and are refused.
"""
from __future__ import annotations

import argparse
import os
from typing import Any

from .cli import CliParser, run_cli
from .errors import UserError

PLAIN_ARCH = "transformer"
TRAINING_ONLY = ("tlm_rate", "tlm_mode", "tlm_apply_to", "drophead_rate")
TEXT_ARCHS = ("tlm_transformer", "tlm_transformer_big", "tlm_transformer_cgec")


def strip_state(state: dict[str, Any], path: str) -> dict[str, Any]:
    """The checkpoint ``state`` rewritten for plain fairseq; ``path`` names it in errors."""
    cfg = state.get("cfg")
    model = cfg.get("model") if isinstance(cfg, dict) else None
    if not isinstance(model, argparse.Namespace):
        raise UserError(f"{path}: not a checkpoint written by fairseq-train with a tlm_fairseq model "
                        "(cfg.model is not an argparse.Namespace)")
    arch = getattr(model, "arch", None)
    if arch == PLAIN_ARCH:
        raise UserError(f"{path}: already a plain fairseq '{PLAIN_ARCH}' checkpoint")
    if arch not in TEXT_ARCHS:
        raise UserError(f"{path}: architecture {arch!r} has no plain fairseq equivalent "
                        f"(only {', '.join(TEXT_ARCHS)} can be stripped; record models need --user-dir tlm_fairseq)")
    args = argparse.Namespace(**{k: v for k, v in vars(model).items() if k not in TRAINING_ONLY})
    args.arch = args._name = PLAIN_ARCH
    args.user_dir = None
    stripped = {k: v for k, v in state.items() if k != "last_optimizer_state"}
    stripped["cfg"] = {**cfg, "model": args}
    if isinstance(cfg.get("common"), dict):
        stripped["cfg"]["common"] = {**cfg["common"], "user_dir": None}
    if isinstance(state.get("args"), argparse.Namespace):  # very old layout: arguments at top level
        stripped["args"] = argparse.Namespace(**{**vars(args), **{k: v for k, v in vars(state["args"]).items()
                                                                    if k not in TRAINING_ONLY and k not in vars(args)}})
    return stripped


def strip_checkpoint(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Read ``src`` safely (weights_only), write the stripped checkpoint atomically at ``dest``."""
    import torch

    from .checkpoints import load_checkpoint
    from .files import atomic_write

    if os.path.abspath(src) == os.path.abspath(dest):
        raise UserError(f"{dest}: the output must not overwrite the input checkpoint")
    state = load_checkpoint(os.fspath(src))
    stripped = strip_state(state, os.fspath(src))
    with atomic_write(dest, binary=True) as fh:
        torch.save(stripped, fh)


def main(argv: list[str] | None = None) -> int:
    parser = CliParser(prog="tlm-strip-checkpoint", description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="checkpoint written by fairseq-train --user-dir tlm_fairseq")
    parser.add_argument("output", help="where to write the plain fairseq 'transformer' checkpoint")
    return run_cli(parser, lambda a: strip_checkpoint(a.input, a.output), argv)


if __name__ == "__main__":
    raise SystemExit(main())
