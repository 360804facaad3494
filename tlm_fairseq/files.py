"""Reading lines strictly and writing outputs atomically: the one implementation of each.

Every reader reports bad input as ``FILE:LINE: message`` so that a user with a multi-million-line
corpus can find the offending line. Every writer goes through a temporary file (or folder) in the
destination's folder that is fsynced and renamed into place only when complete, with the
permissions a plain ``open()``/``mkdir()`` would have given, so a failed or interrupted run never
leaves a half-written output that a later step would silently consume.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterator, Literal, overload

from .errors import InputError, UserError

BOM = "\ufeff"
PathLike = str | os.PathLike[str]


def default_mode(directory: bool) -> int:
    """Permissions a plain open()/mkdir() would give; mkstemp/mkdtemp use 0600/0700 instead."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def iter_lines(path: PathLike, skipped: list[InputError] | None = None) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` with the line ending removed.

    Lines end at ``\\n`` only (``\\r\\n`` accepted): U+2028, U+0085 or a form feed inside a line
    never split it, so outputs stay aligned with inputs. Decoding is strict UTF-8 per line (a bad
    byte is reported with its line instead of being replaced) and a leading BOM is dropped. With a
    ``skipped`` list, undecodable lines are recorded there and skipped instead of raising.
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


def count_lines(path: PathLike) -> int:
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


@overload
def atomic_write(path: PathLike, binary: Literal[False] = ...) -> contextlib.AbstractContextManager[IO[str]]: ...
@overload
def atomic_write(path: PathLike, binary: Literal[True]) -> contextlib.AbstractContextManager[IO[bytes]]: ...


@contextlib.contextmanager  # type: ignore[misc]
def atomic_write(path: PathLike, binary: bool = False) -> Iterator[IO]:
    """Open a file for writing that appears at ``path`` only if the block succeeds.

    The temporary file lives in the destination's folder (so the rename is atomic), is fsynced
    before the rename, and gets the permissions a plain ``open()`` would give. Text is UTF-8 with
    ``\\n`` line endings. Missing parent folders are created.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        if binary:
            fh = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, default_mode(directory=False))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through :func:`atomic_write`."""
    with atomic_write(path) as fh:
        fh.write(text)


def write_bytes_atomic(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_write`."""
    with atomic_write(path, binary=True) as fh:
        fh.write(data)


def check_can_create(path: PathLike, what: str) -> None:
    """Refuse, before any work, a path that cannot be created: its nearest existing ancestor is a
    file, or a folder we may not write in (probed the way the writers write: an entry made there).
    ``what`` starts the message, e.g. ``--dest out/``."""
    folder = Path(path).absolute().parent
    while not folder.exists() and not folder.is_symlink():
        folder = folder.parent
    if not folder.is_dir():
        raise UserError(f"{what}: {folder} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".tlm-write-probe.", dir=folder))
    except OSError as err:
        raise UserError(f"{what}: cannot write in {folder}: {err.strerror}") from None


def check_replaceable(path: PathLike, replace: Callable[[Path], bool] | None) -> None:
    """Refuse an existing ``path`` unless ``replace(path)`` recognises it as ours to replace.

    Called by :func:`atomic_dir`, and by commands before they start long work, so a refusal comes
    first. A regular file, a symlink or a folder holding anything else is never replaced.
    """
    target = Path(path)
    if not (target.exists() or target.is_symlink()):
        return
    if replace is None:
        raise FileExistsError(f"{target} already exists (use --force to replace it)")
    if target.is_symlink() or not target.is_dir() or not replace(target):
        raise FileExistsError(f"{target} exists and is not an output of this tool; refusing to replace it")


@contextlib.contextmanager
def atomic_dir(path: PathLike, replace: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Build a directory under a temporary sibling name and move it to ``path`` on success.

    An existing ``path`` is replaced only when ``replace(path)`` says it may be (for example, it
    is a previous output of the same tool), and only after the new directory is complete, so a
    failed rerun keeps the previous good output. Anything else at ``path`` is refused before any
    work starts.
    """
    target = Path(path)
    check_replaceable(target, replace)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, default_mode(directory=True))
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.replace(target, old / "previous")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
