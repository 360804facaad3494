"""The one command-line error path: a usage or input error is one line on stderr and exit 2.

Pipelines (preprocess, train, evaluate, export, serve) are driven by shell scripts; a single
``prog: error: FILE:LINE: message`` line is what such a script's log should show, rather than
argparse's usage block or a Python traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, NoReturn

from .errors import UserError

EXIT_USAGE = 2


class CliParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are a single line (argparse prints usage first by default)."""

    def error(self, message: str) -> NoReturn:
        fail(self.prog, message)


def fail(prog: str, message: str) -> NoReturn:
    """Print ``prog: error: message`` and exit 2 (for failures found before ``run_cli`` runs)."""
    sys.stderr.write(f"{prog}: error: {message}\n")
    sys.exit(EXIT_USAGE)


def describe(exc: BaseException) -> str:
    """One line for an expected failure; ``OSError`` gets its file name and plain reason."""
    if isinstance(exc, OSError) and not isinstance(exc, UserError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    return str(exc)


def run_cli(parser: argparse.ArgumentParser, body: Callable[[argparse.Namespace], int | None],
            argv: list[str] | None) -> int:
    """Parse ``argv`` and run ``body``; expected failures become one line and exit status 2."""
    args = parser.parse_args(argv)
    try:
        return body(args) or 0
    except (UserError, OSError) as exc:
        sys.stderr.write(f"{parser.prog}: error: {describe(exc)}\n")
        return EXIT_USAGE
