"""Reading a request defensively and noticing a client that left: tlm-serve's request plumbing.

* :func:`read_body`: refuses a body past its size limit as soon as it passes it (413), one that
  does not arrive within the read timeout (408, and the connection is closed), and turns a client
  that hangs up mid-body into :class:`ClientGone` instead of an ASGI traceback;
* :func:`parse_json`: JSON nested deeper than :data:`MAX_JSON_DEPTH` is a 400, never a
  ``RecursionError`` (a 200 KB body of ``[`` used to be a 500); so are a key given twice (parsers
  disagree on which one wins) and lone surrogates (they parse, but are not text and cannot be
  encoded back into an answer);
* :class:`HeadLimit`: a request head (line and headers) over :data:`MAX_HEAD_BYTES` is a 431, also
  when it arrived whole in one read (h11 bounds only heads still incomplete);
* :func:`unless_client_leaves`: awaits work while watching the connection, and cancels the work
  when the client disconnects, so nothing is computed for nobody.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

MAX_JSON_DEPTH = 32  # a request is an object holding lists of strings or game objects: a few levels
MAX_HEAD_BYTES = 16 << 10  # request line and headers; h11 refuses a head still incomplete past this size

T = TypeVar("T")


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class RequestError(Exception):
    """A request the server refuses; ``response`` is the JSON error to send."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.response = error(status, code, message, headers)


class ClientGone(Exception):
    """The client closed its connection; there is nobody to answer."""


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The body, refused (413) once it passes ``limit`` bytes, declared or streamed, or (408) when it
    has not fully arrived ``timeout`` seconds after the handler started reading it."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, "bad_request", "Content-Length is not a number")
        if int(declared) > limit:
            raise RequestError(413, "body_too_large", f"request body is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise RequestError(413, "body_too_large", f"request body exceeds the limit of {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestError(408, "body_timeout", f"the request body did not arrive within {timeout:g} s "
                           f"({size} bytes received)", headers={"Connection": "close"}) from None
    except ClientDisconnect:
        raise ClientGone(f"while sending its request body ({size} bytes received)") from None
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """``body`` as JSON, or a 400 RequestError: not JSON, not UTF-8, nested too deeply, a key twice,
    or a lone surrogate (``"\\ud800"`` parses, but is no text and cannot be answered back)."""
    try:
        payload = json.loads(body, object_pairs_hook=_object)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RequestError(400, "invalid_json", f"body is not valid JSON: {err}") from None
    except _DuplicateKey as err:
        raise RequestError(400, "invalid_json", f"key {err.key!r} appears twice in one object") from None
    except RecursionError:  # the C decoder guards its own recursion: deeper than the interpreter's limit
        raise RequestError(400, "invalid_json", f"body is nested deeper than {MAX_JSON_DEPTH} levels") from None
    check_json(payload, MAX_JSON_DEPTH)
    return payload


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    made: dict[str, Any] = {}
    for key, value in pairs:
        if key in made:
            raise _DuplicateKey(key)
        made[key] = value
    return made


_SURROGATE = re.compile("[\ud800-\udfff]")


def check_json(value: Any, max_depth: int) -> None:
    """Refuse (400) nesting deeper than ``max_depth`` and strings with lone surrogates; no recursion."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise RequestError(400, "invalid_json", f"string {item[:40]!r} holds a lone UTF-16 surrogate, "
                                   "which is not text")
        elif isinstance(item, (list, dict)):
            if depth + 1 > max_depth:
                raise RequestError(400, "invalid_json", f"body is nested deeper than {max_depth} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


async def _disconnected(request: Request) -> None:
    """Returns when the client disconnects (after the body was read, receive() waits for that)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def unless_client_leaves(request: Request, work: Awaitable[T]) -> T:
    """``await work``, cancelling it and raising :class:`ClientGone` if the client disconnects first."""
    task = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # the server is stopping this handler
        task.cancel()
        raise
    finally:
        watch.cancel()
    if not task.done():
        task.cancel()  # the batcher drops the job, or stops its search at its next model call
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise ClientGone("while its request was queued or searched")
    return task.result()


class HeadLimit:
    """ASGI middleware: answer 431 to a request whose line and headers exceed ``limit`` bytes."""

    def __init__(self, app: Any, limit: int = MAX_HEAD_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size += sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.limit:
                response = error(431, "head_too_large", f"request line and headers are {size} bytes; "
                                 f"the limit is {self.limit}", headers={"Connection": "close"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
