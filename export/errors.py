"""Errors of the export and serving stages; each names the file (or request input) at fault.

They are :class:`tlm_fairseq.errors.UserError`\\ s, so every command prints them as one
``prog: error: message`` line (``tlm_fairseq.cli.run_cli``) and the server answers them as 4xx.
"""
from __future__ import annotations

import os

from tlm_fairseq.errors import UserError


class ExportError(UserError):
    """A user-facing failure of tlm-export, tlm-generate or tlm-serve."""


class FileProblem(ExportError):
    """A file is missing, unreadable, corrupt or inconsistent; the message starts with its path."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        super().__init__(f"{os.fspath(path)}: {problem}")
        self.path = os.fspath(path)
        self.problem = problem


class UnsupportedModel(FileProblem):
    """The checkpoint holds an architecture or option that the exporter cannot reproduce exactly."""


class DictionaryMismatch(FileProblem):
    """A dictionary does not fit the model (size or special symbols differ)."""


class ConfigProblem(FileProblem):
    """``config.json`` of a model directory is malformed; ``key`` is the dotted key at fault."""

    def __init__(self, path: str | os.PathLike[str], key: str | None, problem: str) -> None:
        super().__init__(path, problem)
        self.key = key


class InputProblem(ExportError):
    """A generation input is unusable (too long, wrong type, empty); names the input's position."""

    def __init__(self, index: int, problem: str) -> None:
        super().__init__(f"input {index}: {problem}")
        self.index = index
        self.problem = problem
