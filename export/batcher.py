"""Micro-batching of concurrent generation requests, fair sharing of the model, bounded pending work.

Requests arriving within ``max_wait`` of each other and asking for the same search options are
searched as one batch (the search's results do not depend on batch composition, see
``export.search``), up to ``max_batch_inputs`` inputs. Up to ``max_running`` batches run at once,
each in its own thread, but the model runs one call at a time: every encoder run and decoder step
asks :class:`StepScheduler` for the model, which grants it to the waiting batch that has used the
least model time so far. A one-sentence request that arrives while a large one runs therefore
waits for one decoder step of the large one, not for the whole of it. The large one yields to
smaller ones, but never for more than ``patience`` (8) calls in a row, so a steady stream of small
requests slows it down without starving it.

A batch whose clients have all gone (every request future cancelled, e.g. the client disconnected)
is stopped at its next model call, and so are all batches when the batcher stops. At most
``max_pending`` requests may wait or run; the next one is refused at once (the server answers 503)
rather than queueing without limit.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import itertools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .generate import Gate
from .search import Hypothesis, SearchOptions

log = logging.getLogger("tlm.serve")



class SearchFn(Protocol):
    """``Generator.generate_ids``: hypotheses per source, every model call inside ``gate()``."""

    def __call__(self, sources: Sequence[np.ndarray], opts: SearchOptions, *, gate: Gate) -> list[list[Hypothesis]]: ...


class Overloaded(Exception):
    """Too many requests pending."""


class Cancelled(Exception):
    """Raised inside a search whose batch was stopped: its clients left, or the server is stopping."""


class StepScheduler:
    """Grants the model to one call at a time: to the waiting batch with the least model time used,
    unless one has been passed over ``patience`` times in a row, which then goes first.

    Least-attained-service order: a newly arrived batch (nothing used yet) goes before a batch that
    has been running for a while, so short requests are not stuck behind long ones. The patience
    bound keeps a steady stream of short requests from starving a long one: it still gets at least
    one call in every ``patience + 1``.
    """

    def __init__(self, patience: int = 8) -> None:
        if patience < 1:
            raise ValueError("patience must be >= 1")
        self.patience = patience
        self._cond = threading.Condition()
        self._busy = False
        self._waiting: list[tuple[int, Ticket]] = []  # (arrival order, ticket)
        self._order = itertools.count()

    def _next(self) -> tuple[int, Ticket]:
        starved = max(self._waiting, key=lambda e: (e[1].passed_over, -e[0]))
        if starved[1].passed_over >= self.patience:
            return starved
        return min(self._waiting, key=lambda e: (e[1].used, e[0]))

    @contextlib.contextmanager
    def turn(self, ticket: Ticket) -> Iterator[None]:
        with self._cond:
            entry = (next(self._order), ticket)
            self._waiting.append(entry)
            while self._busy or self._next() is not entry:
                if ticket.stop.is_set():
                    self._waiting.remove(entry)
                    self._cond.notify_all()
                    raise Cancelled()
                self._cond.wait(timeout=0.5)  # also wakes to notice a stop without a notify
            self._waiting.remove(entry)
            for _, other in self._waiting:
                other.passed_over += 1
            ticket.passed_over = 0
            self._busy = True
        start = time.perf_counter()
        try:
            yield
        finally:
            ticket.used += time.perf_counter() - start
            ticket.calls += 1
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def wake(self) -> None:
        """Let waiting tickets re-check their stop flags."""
        with self._cond:
            self._cond.notify_all()


@dataclass(eq=False)
class Ticket:
    """One running batch as the scheduler sees it."""

    stop: threading.Event = field(default_factory=threading.Event)
    used: float = 0.0  # seconds of model time
    calls: int = 0
    passed_over: int = 0  # calls granted to others while this one waited, since its last call


@dataclass(eq=False)
class _Job:
    sources: list[np.ndarray]
    opts: SearchOptions
    future: asyncio.Future = field(repr=False)


@dataclass(eq=False)
class _Batch:
    jobs: list[_Job]
    ticket: Ticket = field(default_factory=Ticket)


class MicroBatcher:
    """Collects jobs on the event loop and runs merged batches on worker threads, one model call at a time."""

    def __init__(self, search: SearchFn, max_batch_inputs: int = 64, max_wait: float = 0.005,
                 max_pending: int = 64, max_running: int = 4) -> None:
        if max_batch_inputs < 1 or max_pending < 1 or max_running < 1 or max_wait < 0:
            raise ValueError("max_batch_inputs, max_pending and max_running must be >= 1, max_wait >= 0")
        self.search = search
        self.max_batch_inputs = max_batch_inputs
        self.max_wait = max_wait
        self.max_pending = max_pending
        self.max_running = max_running
        self.scheduler = StepScheduler()
        self._queue: collections.deque[_Job] = collections.deque()
        self._running: set[_Batch] = set()
        self._tasks: set[asyncio.Task] = set()
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._threads: ThreadPoolExecutor | None = None
        self.pending = 0
        self.batches = 0
        self.requests = 0
        self.stopped = 0  # batches stopped because every client had left

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._threads = ThreadPoolExecutor(self.max_running, thread_name_prefix="tlm-search")
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Refuse what is queued, stop the running searches at their next model call, wait for them."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(RuntimeError("server shutting down"))
        for batch in self._running:
            batch.ticket.stop.set()
        self.scheduler.wake()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._threads is not None:
            self._threads.shutdown(wait=True)

    async def submit(self, sources: list[np.ndarray], opts: SearchOptions) -> list[list[Hypothesis]]:
        """Hypotheses for ``sources``; raises :class:`Overloaded` when the bound is reached.

        Cancelling the awaiting task (a client that left) cancels the job: it is dropped if still
        queued, and its batch stops at its next model call once none of its jobs is wanted.
        """
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
        """The oldest wanted job plus later ones with the same options, within the input budget."""
        while self._queue and self._queue[0].future.done():
            self._queue.popleft()  # cancelled while queued
        if not self._queue:
            return []
        first = self._queue.popleft()
        batch, size = [first], len(first.sources)
        rest: collections.deque[_Job] = collections.deque()
        while self._queue:
            job = self._queue.popleft()
            if job.future.done():
                continue
            if job.opts == first.opts and size + len(job.sources) <= self.max_batch_inputs:
                batch.append(job)
                size += len(job.sources)
            else:
                rest.append(job)
        self._queue = rest
        return batch

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            if not self._queue or len(self._running) >= self.max_running:
                self._wake.clear()
                await self._wake.wait()
                continue
            if self.max_wait > 0:
                await asyncio.sleep(self.max_wait)  # let concurrent requests join this batch
            jobs = self._take_batch()
            if not jobs:
                continue
            batch = _Batch(jobs)
            self._running.add(batch)
            for job in jobs:
                job.future.add_done_callback(lambda _, batch=batch: self._maybe_stop(batch))
            task = asyncio.get_running_loop().create_task(self._run_batch(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _maybe_stop(self, batch: _Batch) -> None:
        """A job finished or was cancelled: stop the batch's search if nobody wants its result."""
        if batch in self._running and all(job.future.done() for job in batch.jobs):
            batch.ticket.stop.set()
            self.scheduler.wake()

    def _gate(self, ticket: Ticket) -> Gate:
        def gate() -> contextlib.AbstractContextManager[None]:
            if ticket.stop.is_set():
                raise Cancelled()
            return self.scheduler.turn(ticket)
        return gate

    async def _run_batch(self, batch: _Batch) -> None:
        assert self._wake is not None
        sources = [s for job in batch.jobs for s in job.sources]
        opts = batch.jobs[0].opts
        started = time.perf_counter()
        try:
            loop = asyncio.get_running_loop()
            search = functools.partial(self.search, sources, opts, gate=self._gate(batch.ticket))
            results = await loop.run_in_executor(self._threads, search)
        except Cancelled:
            self.stopped += 1
            log.info("stopped a search of %d input(s) after %d model calls (%.2f s): no client is waiting for it",
                     len(sources), batch.ticket.calls, time.perf_counter() - started)
            for job in batch.jobs:
                if not job.future.done():
                    job.future.set_exception(RuntimeError("server shutting down"))
            return
        except Exception as err:  # noqa: BLE001 - fail these requests, keep serving
            log.exception("batch of %d inputs failed", len(sources))
            for job in batch.jobs:
                if not job.future.done():
                    job.future.set_exception(err)
            return
        finally:
            self._running.discard(batch)
            self._wake.set()  # a slot is free
        self.batches += 1
        self.requests += len(batch.jobs)
        start = 0
        for job in batch.jobs:
            part = results[start : start + len(job.sources)]
            start += len(job.sources)
            if not job.future.done():
                job.future.set_result(part)
