"""Safe line reading and atomic writing shared by the CGEC preprocessing steps.

Every reader reports bad input as ``FILE:LINE: message`` so that a user with a multi-million-line
corpus can find the offending line, and every writer goes through a temporary file (or folder)
that is renamed into place only when complete, so a failed or interrupted run never leaves a
half-written output that a later step would silently consume.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator

BOM = "\ufeff"


def _default_mode(directory: bool) -> int:
    """Permissions a plain open()/mkdir() would give; mkstemp/mkdtemp use 0600/0700 instead."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


class InputError(ValueError):
    """Malformed input, located by file and (1-based) line number."""

    def __init__(self, path: str | os.PathLike[str], line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


def iter_lines(path: str | os.PathLike[str], skipped: list[InputError] | None = None) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` with the line ending removed.

    Decoding is strict UTF-8 per line (a bad byte is reported with its line instead of being
    replaced), a leading BOM is dropped, and CRLF line endings are accepted because CGEC
    corpora are often edited on Windows. With a ``skipped`` list, undecodable lines are recorded
    there and skipped instead of raising.
    """
    p = Path(path)
    try:
        fh = p.open("rb")
    except OSError as exc:
        raise InputError(p, None, f"cannot open: {exc.strerror}") from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            raw = raw.rstrip(b"\n")
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                err = InputError(p, lineno, f"invalid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1})")
                if skipped is None:
                    raise err from None
                skipped.append(err)
                continue
            if lineno == 1 and text.startswith(BOM):
                text = text[1:]
            yield lineno, text


def count_lines(path: str | os.PathLike[str]) -> int:
    """Number of lines (a final line without newline counts); used to size progress bars."""
    n = 0
    last = b"\n"
    try:
        fh = Path(path).open("rb")
    except OSError as exc:
        raise InputError(path, None, f"cannot open: {exc.strerror}") from None
    with fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (0 if last == b"\n" else 1)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """Open a text file for writing that appears at ``path`` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
        os.chmod(tmp, _default_mode(directory=False))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Build a directory under a temporary sibling name and move it to ``path`` on success.

    An existing ``path`` is replaced only when ``overwrite`` is true, and only after the new
    directory is complete, so a failed rerun keeps the previous good output.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists (use --force to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, _default_mode(directory=True))
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.replace(target, old / "x")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
