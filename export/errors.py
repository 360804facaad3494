"""Errors of the export and serving stages; each names the file (or request field) at fault."""
from __future__ import annotations

import os


class ExportError(Exception):
    """Base class: a user-facing failure whose message is printed as is by the CLIs."""


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


class InputProblem(ExportError):
    """A generation input is unusable (too long, wrong type, empty); names the input's position."""

    def __init__(self, index: int, problem: str) -> None:
        super().__init__(f"input {index}: {problem}")
        self.index = index
        self.problem = problem
