"""Micro-batching of concurrent generation requests, with a bound on pending work.

Requests arriving within ``max_wait`` of each other and asking for the same search options are
searched as one batch (the search's results do not depend on batch composition, see
``export.search``), up to ``max_batch_inputs`` inputs. One worker thread runs the batches, so
onnxruntime sees one batch at a time with all its intra-op threads. At most ``max_pending``
requests may wait or run; the next one is refused at once (the server answers 503) rather than
queueing without limit.
"""
from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .search import Hypothesis, SearchOptions

log = logging.getLogger("tlm.serve")

SearchFn = Callable[[Sequence[np.ndarray], SearchOptions], list[list[Hypothesis]]]


class Overloaded(Exception):
    """Too many requests pending."""


@dataclass
class _Job:
    sources: list[np.ndarray]
    opts: SearchOptions
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Collects jobs on the event loop and runs merged batches on one worker thread."""

    def __init__(self, search: SearchFn, max_batch_inputs: int = 64, max_wait: float = 0.005,
                 max_pending: int = 64) -> None:
        if max_batch_inputs < 1 or max_pending < 1 or max_wait < 0:
            raise ValueError("max_batch_inputs and max_pending must be >= 1, max_wait >= 0")
        self.search = search
        self.max_batch_inputs = max_batch_inputs
        self.max_wait = max_wait
        self.max_pending = max_pending
        self._queue: collections.deque[_Job] = collections.deque()
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self.pending = 0
        self.batches = 0
        self.requests = 0

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(RuntimeError("server shutting down"))

    async def submit(self, sources: list[np.ndarray], opts: SearchOptions) -> list[list[Hypothesis]]:
        """Hypotheses for ``sources``; raises :class:`Overloaded` when the bound is reached."""
        if self._wake is None:
            raise RuntimeError("MicroBatcher.start() was not called")
        if self.pending >= self.max_pending:
            raise Overloaded(f"{self.pending} requests pending (limit {self.max_pending})")
        self.pending += 1
        try:
            job = _Job(sources, opts, asyncio.get_running_loop().create_future())
            self._queue.append(job)
            self._wake.set()
            return await job.future
        finally:
            self.pending -= 1

    def _take_batch(self) -> list[_Job]:
        """The oldest job plus later ones with the same options, within the input budget."""
        first = self._queue.popleft()
        batch, size = [first], len(first.sources)
        rest: collections.deque[_Job] = collections.deque()
        while self._queue:
            job = self._queue.popleft()
            if job.opts == first.opts and size + len(job.sources) <= self.max_batch_inputs and not job.future.done():
                batch.append(job)
                size += len(job.sources)
            else:
                rest.append(job)
        rest.extend(self._queue)
        self._queue = rest
        return [job for job in batch if not job.future.done()]

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
            if self.max_wait > 0:
                await asyncio.sleep(self.max_wait)  # let concurrent requests join this batch
            batch = self._take_batch()
            if not batch:
                continue
            sources = [s for job in batch for s in job.sources]
            try:
                results = await asyncio.to_thread(self.search, sources, batch[0].opts)
            except Exception as err:  # noqa: BLE001 - fail these requests, keep serving
                log.exception("batch of %d inputs failed", len(sources))
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(err)
                continue
            self.batches += 1
            self.requests += len(batch)
            start = 0
            for job in batch:
                part = results[start : start + len(job.sources)]
                start += len(job.sources)
                if not job.future.done():
                    job.future.set_result(part)
