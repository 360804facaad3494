"""Connection deadlines uvicorn does not have: a request head must arrive within a timeout.

uvicorn times out an idle keep-alive connection only until its first byte arrives, and not at
all before the first request: a client that connects and sends nothing, or trickles a header
line now and then, or keeps sending the body of a request whose answer already went out, holds
its connection (and a file descriptor) forever. :class:`HeadTimeoutProtocol` arms a timer whenever
the connection waits for a request head (on connect and after each response) and closes the
connection if no complete head arrived in time. The body's own deadline is the request handler's
(``export.http_io.read_body``), which can still answer 408.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("tlm.serve")


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections that do not send a request head in time."""

    head_timeout: float = 15.0  # seconds; set by :func:`protocol_with_head_timeout`

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a complete request head arrived: the handler takes over
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm()  # before super(): it may start a pipelined request, which disarms again
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _timed_out(self) -> None:
        self._head_timer = None
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            client = "%s:%d" % self.client if self.client else "a client"
            log.info("closed the connection of %s: no complete request within %g s", client, self.head_timeout)
            self.transport.close()


def protocol_with_head_timeout(seconds: float) -> type[HeadTimeoutProtocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` with this head timeout."""
    attributes: dict[str, Any] = {"head_timeout": seconds}
    return type("HeadTimeoutProtocol", (HeadTimeoutProtocol,), attributes)
