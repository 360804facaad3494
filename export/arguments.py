"""argparse value types with ranges, so a bad number is one ``prog: error: argument --x: ...`` line."""
from __future__ import annotations

import argparse
from typing import Callable


def int_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` accepting integers in ``[low, high]`` (no upper bound when None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {value}")
        return value

    parse.__name__ = "int"
    return parse


def float_range(low: float, high: float) -> Callable[[str], float]:
    """An argparse ``type`` accepting finite numbers in ``[low, high]``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not low <= value <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be in [{low:g}, {high:g}], got {text}")
        return value

    parse.__name__ = "float"
    return parse


positive_int = int_range(1)
non_negative_int = int_range(0)


def add_precision_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--precision float32|float16|int8`` (dest ``precision``, None: float32) and ``--fp16``, its older alias."""
    from .config import PRECISIONS

    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="which graphs to run: float32 (default), float16 (tlm-export --fp16; meant for CUDA) "
                             "or int8 (tlm-export --quantize int8; meant for CPU)")
    parser.add_argument("--fp16", dest="precision", action="store_const", const="float16",
                        help="the same as --precision float16")
