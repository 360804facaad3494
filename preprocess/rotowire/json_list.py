"""Stream the items of a file holding one top-level JSON list, with bounded memory.

Rotowire splits are single JSON lists of games (train.json is about 100 MB), so reading them with
``json.load`` would hold the whole split twice in memory. This reader decodes one item at a time
and is strict about everything around the items: a second list, trailing text or a truncated file
is an error naming ``FILE:LINE``, never a silently shorter dataset.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tlm_fairseq.errors import InputError

_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace; anything else is content
#: A decoded item ending this close to the end of the buffer is decoded again after reading more,
#: since the rest of the file may continue it ("12" + "34", "1." + "5", "tru" + "e").
_MARGIN = 64


class _Buffer:
    """Decoded text read chunk by chunk, with the line number of any position in it."""

    def __init__(self, path: Path, handle: IO[bytes], chunk_bytes: int) -> None:
        self.path, self.handle, self.chunk_bytes = path, handle, chunk_bytes
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()  # drops a leading BOM
        self.text, self.pos, self.eof = "", 0, False
        self._mark, self._mark_line = 0, 1  # line number at text[_mark]

    def line(self, pos: int | None = None) -> int:
        """1-based line of ``text[pos]`` (positions asked for never decrease)."""
        pos = self.pos if pos is None else pos
        self._mark_line += self.text.count("\n", self._mark, pos)
        self._mark = pos
        return self._mark_line

    def error(self, message: str, pos: int | None = None) -> InputError:
        return InputError(self.path, self.line(pos), message)

    def fill(self) -> bool:
        """Append the next decoded text, dropping what lies before ``pos``; False at the end of the file."""
        while not self.eof:
            raw = self.handle.read(self.chunk_bytes)
            self.eof = not raw
            pending = self.decoder.getstate()[0]
            try:
                chunk = self.decoder.decode(raw, final=self.eof)
            except UnicodeDecodeError as exc:
                before = raw[: max(exc.start - len(pending), 0)].count(b"\n")
                line = self.line(len(self.text)) + before
                raise InputError(self.path, line, f"invalid UTF-8 (byte 0x{exc.object[exc.start]:02x})") from None
            if chunk:
                self.line(self.pos)
                self.text, self._mark, self.pos = self.text[self.pos :] + chunk, 0, 0
                return True
        return False

    def skip_whitespace(self) -> bool:
        """Move ``pos`` to the next non-whitespace character; False if the file ends first."""
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text):
                return True
            if not self.fill():
                return False

    def snippet(self, size: int = 20) -> str:
        """The text at ``pos``, for error messages (read on so that it does not depend on chunking)."""
        while len(self.text) - self.pos < size and self.fill():
            pass
        return repr(self.text[self.pos : self.pos + size])


def _decode_item(buf: _Buffer, decoder: json.JSONDecoder) -> Any:
    """Decode the item at ``buf.pos``, reading more while the buffer's end may cut it."""
    while True:
        try:
            item, end = decoder.raw_decode(buf.text, buf.pos)
        except json.JSONDecodeError as exc:
            cut = exc.msg.startswith("Unterminated string")
            if (cut or exc.pos >= len(buf.text) - _MARGIN) and buf.fill():
                continue  # the buffer's end may have cut the item: decode it again with more text
            if cut or exc.pos >= len(buf.text):
                raise buf.error("the file ends inside a game (truncated JSON?)", len(buf.text)) from None
            raise buf.error(f"invalid JSON: {exc.msg.removesuffix(' at')}", exc.pos) from None
        except RecursionError:
            raise buf.error("invalid JSON: nested too deeply") from None
        except ValueError as exc:  # e.g. an integer longer than Python's 4300-digit limit
            raise buf.error(f"invalid JSON: {str(exc).split(':')[0]}") from None
        if end > len(buf.text) - _MARGIN and buf.fill():
            continue
        buf.pos = end
        return item


def iter_json_items(path: str | os.PathLike[str], chunk_bytes: int = 1 << 20) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, item)`` for each item of the file's top-level list; ``line`` is where it starts.

    Refuses anything but one JSON list surrounded by whitespace, naming the file and line.
    """
    p = Path(path)
    decoder = json.JSONDecoder()
    with p.open("rb") as handle:
        buf = _Buffer(p, handle, chunk_bytes)
        if not buf.skip_whitespace():
            raise buf.error("empty file: expected a JSON list of games")
        if buf.text[buf.pos] != "[":
            raise buf.error(f"expected a JSON list of games ('['), found {buf.snippet()}")
        buf.pos += 1
        if not buf.skip_whitespace():
            raise buf.error("the file ends inside the list of games (truncated JSON?)")
        if buf.text[buf.pos] == "]":
            buf.pos += 1
        else:
            while True:
                line = buf.line()
                yield line, _decode_item(buf, decoder)
                if not buf.skip_whitespace():
                    raise buf.error("the file ends inside the list of games (truncated JSON?)")
                sep = buf.text[buf.pos]
                if sep not in ",]":
                    raise buf.error(f"invalid JSON: expected ',' or ']' after a game, found {buf.snippet()}")
                buf.pos += 1
                if sep == "]":
                    break
                if not buf.skip_whitespace():
                    raise buf.error("the file ends inside the list of games (truncated JSON?)")
        if buf.skip_whitespace():
            raise buf.error(f"unexpected content after the list of games: {buf.snippet()}")


def iter_json_list(path: str | os.PathLike[str], chunk_bytes: int = 1 << 20) -> Iterator[Any]:
    """The items of the file's top-level JSON list, one at a time (see :func:`iter_json_items`)."""
    for _, item in iter_json_items(path, chunk_bytes):
        yield item
