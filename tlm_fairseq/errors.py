"""The one family of user-facing errors: every command prints them as ``prog: error: MESSAGE``.

A message names what the user must fix first: ``FILE:LINE: problem`` for bad input, the request
field for a bad request, the config key for a bad model directory. Anything else escaping a command
is a bug and keeps its traceback.
"""
from __future__ import annotations

import os


class UserError(Exception):
    """A problem with the command line, a file or a request that the user must fix."""


class InputError(UserError, ValueError):
    """Malformed input, located by file and (1-based) line number when one applies."""

    def __init__(self, path: str | os.PathLike[str], line: int | None, message: str) -> None:
        self.path = os.fspath(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
