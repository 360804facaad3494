"""Shared command-line behaviour: every usage or input error is one line on stderr and exit 2.

Long pipelines (preprocess, then train, then evaluate) are usually driven by shell scripts; a
single ``prog: error: FILE:LINE: message`` line is what such a script's log should show, rather
than argparse's usage block or a Python traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, NoReturn

from .cgec_io import InputError

EXIT_USAGE = 2


class CliError(Exception):
    """A problem with the command line or its inputs that the user must fix."""


class CliParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are a single line (argparse prints usage first by default)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(EXIT_USAGE)


def run_cli(parser: argparse.ArgumentParser, body: Callable[[argparse.Namespace], int], argv: list[str] | None) -> int:
    """Parse ``argv`` and run ``body``, turning expected failures into one line and exit 2."""
    args = parser.parse_args(argv)
    try:
        return body(args)
    except (InputError, CliError, FileExistsError) as exc:
        sys.stderr.write(f"{parser.prog}: error: {exc}\n")
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"{parser.prog}: error: {where}{exc.strerror or exc}\n")
        return EXIT_USAGE
