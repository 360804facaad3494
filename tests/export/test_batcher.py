"""MicroBatcher without a model: small requests overtake a long search step by step (but cannot
starve it), a search nobody waits for stops at its next model call, a job cancelled while queued
never runs, stop() stops all."""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from export.batcher import MicroBatcher, StepScheduler
from export.generate import Gate
from export.search import Hypothesis, SearchOptions

STEP_SECONDS = 0.005


class FakeModel:
    """A 'search' of ``steps`` model calls per batch (the first source's value), recording the order."""

    def __init__(self) -> None:
        self.calls: list[int] = []  # the steps value of the batch that made each call
        self.searches: list[list[int]] = []
        self.lock = threading.Lock()

    def __call__(self, sources: Sequence[np.ndarray], opts: SearchOptions, *, gate: Gate) -> list[list[Hypothesis]]:
        steps = int(sources[0][0])
        with self.lock:
            self.searches.append([int(s[0]) for s in sources])
        for _ in range(steps):
            with gate():
                time.sleep(STEP_SECONDS)
                with self.lock:
                    self.calls.append(steps)
        return [[Hypothesis([int(s[0])], 0.0, [0.0])] for s in sources]


def job(steps: int) -> list[np.ndarray]:
    return [np.asarray([steps])]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=60))


async def long_search(model: FakeModel, steps: int, calls: int = 1) -> tuple[MicroBatcher, asyncio.Future]:
    """A started batcher searching ``steps`` model calls with beam 2, once it has made ``calls``."""
    batcher = MicroBatcher(model, max_wait=0)
    batcher.start()
    search = asyncio.ensure_future(batcher.submit(job(steps), SearchOptions(beam=2)))
    while len(model.calls) < calls:
        await asyncio.sleep(0.01)
    return batcher, search


def test_a_small_request_overtakes_a_long_search():
    model = FakeModel()

    async def scenario() -> tuple[int, int]:
        batcher, big = await long_search(model, 400, calls=20)  # the long search is under way
        small = await batcher.submit(job(5), SearchOptions(beam=1))
        big_calls_when_small_done = model.calls.count(400)
        assert small == [[Hypothesis([5], 0.0, [0.0])]] and not big.done()
        await big
        await batcher.stop()
        return big_calls_when_small_done, model.calls.index(5)

    big_calls, first_small = run(scenario())
    # the small search got the model at the next step and kept it: 5 calls in a row, a few big ones meanwhile
    small_calls = [i for i, steps in enumerate(model.calls) if steps == 5]
    assert small_calls == list(range(first_small, first_small + 5))
    assert big_calls < 400 and model.calls.count(400) == 400


def test_a_steady_stream_of_small_requests_does_not_starve_a_long_search():
    model = FakeModel()

    async def stream(batcher: MicroBatcher, big: asyncio.Future, served: list[int], beam: int) -> None:
        while not big.done() and served[0] < 600:  # without the patience bound, the cap ends the stream
            await batcher.submit(job(4), SearchOptions(beam=beam))
            served[0] += 1

    async def scenario() -> int:
        batcher, big = await long_search(model, 60)
        served = [0]
        # 3 streams with different options (never merged into one batch): a small search is always waiting
        await asyncio.gather(*(stream(batcher, big, served, beam) for beam in (3, 4, 5)))
        assert big.done(), f"the long search was still waiting after {served[0]} small requests"
        await batcher.stop()
        return served[0]

    small_requests = run(scenario())
    big_calls = [i for i, steps in enumerate(model.calls) if steps == 60]
    longest_wait = max(b - a - 1 for a, b in zip(big_calls, big_calls[1:]))
    # it yielded, but never for long (the bound counts calls granted while it waited; a busy machine may
    # slip a few more in while its thread is between two calls)
    assert small_requests > 20 and longest_wait <= 2 * StepScheduler().patience


def test_a_search_nobody_waits_for_stops_and_others_are_served():
    model = FakeModel()

    async def scenario() -> MicroBatcher:
        batcher, doomed = await long_search(model, 1000, calls=10)
        doomed.cancel()  # what the server does when the client disconnects
        assert await batcher.submit(job(3), SearchOptions(beam=1)) == [[Hypothesis([3], 0.0, [0.0])]]
        while batcher.stopped == 0:
            await asyncio.sleep(0.01)
        await batcher.stop()
        return batcher

    batcher = run(scenario())
    assert batcher.stopped == 1 and model.calls.count(1000) < 1000 and batcher.pending == 0


def test_a_job_cancelled_while_queued_never_runs():
    model = FakeModel()

    async def scenario() -> None:
        batcher = MicroBatcher(model, max_wait=0.3)
        batcher.start()
        queued = asyncio.ensure_future(batcher.submit(job(7), SearchOptions(beam=1)))
        await asyncio.sleep(0.05)
        queued.cancel()
        await asyncio.sleep(0.5)
        assert await batcher.submit(job(2), SearchOptions(beam=1)) == [[Hypothesis([2], 0.0, [0.0])]]
        await batcher.stop()

    run(scenario())
    assert model.searches == [[2]]


def test_stop_ends_running_searches_and_fails_their_requests():
    model = FakeModel()

    async def scenario() -> None:
        batcher, running = await long_search(model, 100_000)
        started = time.monotonic()
        await batcher.stop()
        assert time.monotonic() - started < 5
        with pytest.raises(RuntimeError, match="shutting down"):
            await running

    run(scenario())
    assert model.calls.count(100_000) < 1000


def test_same_options_are_merged_and_limits_are_checked():
    model = FakeModel()

    async def scenario() -> None:
        batcher = MicroBatcher(model, max_wait=0.05)
        batcher.start()
        replies = await asyncio.gather(*(batcher.submit(job(1), SearchOptions(beam=3)) for _ in range(5)))
        assert all(r == [[Hypothesis([1], 0.0, [0.0])]] for r in replies)
        await batcher.stop()
        assert batcher.batches == 1 and batcher.requests == 5

    run(scenario())
    with pytest.raises(ValueError):
        MicroBatcher(model, max_running=0)
