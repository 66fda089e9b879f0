"""The dynamic batcher: requests arriving together are scored in one call, each gets its own rows back."""

from __future__ import annotations

import asyncio
import itertools
import threading

from journeys.service.batcher import Batcher


class Recorder:
    """Scores a batch (a list of numbers) by doubling it; the first call blocks until released, so the
    requests sent meanwhile queue up as they would behind a busy model."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.started = threading.Event()
        self.release = threading.Event()

    def score(self, batch: list[int]) -> list[int]:
        if not self.batches:
            self.started.set()
            self.release.wait(timeout=30)
        self.batches.append(batch)
        if any(value < 0 for value in batch):
            raise ValueError("negative value in batch")
        return [2 * value for value in batch]


def batcher_for(recorder: Recorder, max_contacts: int) -> Batcher:
    def split(result: list[int], counts: list[int]) -> list[list[int]]:
        bounds = [sum(counts[:i]) for i in range(len(counts) + 1)]
        return [result[start:stop] for start, stop in itertools.pairwise(bounds)]

    return Batcher("test", recorder.score, lambda parts: [v for part in parts for v in part], split,
                   max_wait_s=0.005, max_contacts=max_contacts)  # fmt: skip


async def send_all(batcher: Batcher, recorder: Recorder, requests: list[list[int]]) -> list:
    first = asyncio.ensure_future(batcher.submit(requests[0], len(requests[0])))
    await asyncio.to_thread(recorder.started.wait, 30)  # the first request is being scored: the others queue
    rest = [asyncio.ensure_future(batcher.submit(r, len(r))) for r in requests[1:]]
    await asyncio.sleep(0.05)
    recorder.release.set()
    return await asyncio.gather(first, *rest, return_exceptions=True)


def test_requests_waiting_together_are_scored_in_one_call() -> None:
    recorder = Recorder()
    batcher = batcher_for(recorder, max_contacts=100)
    requests = [[i, i + 100] for i in range(10)]
    results = asyncio.run(send_all(batcher, recorder, requests))
    batcher.close()
    assert results == [[2 * a, 2 * b] for a, b in requests], "each request gets its own rows, in order"
    assert [len(b) for b in recorder.batches] == [2, 18], "the nine queued requests went in one batch"


def test_batches_stay_within_the_cap() -> None:
    recorder = Recorder()
    batcher = batcher_for(recorder, max_contacts=5)
    requests = [[i, i, i] for i in range(7)]
    results = asyncio.run(send_all(batcher, recorder, requests))
    batcher.close()
    assert results == [[2 * i] * 3 for i in range(7)]
    assert all(len(b) <= 5 for b in recorder.batches), recorder.batches
    assert len(recorder.batches) == 7, "three contacts each: no two requests fit under a cap of five"


def test_a_failing_batch_fails_its_requests_only() -> None:
    recorder = Recorder()
    batcher = batcher_for(recorder, max_contacts=100)
    results = asyncio.run(send_all(batcher, recorder, [[1], [-1], [2]]))
    assert results[0] == [2]
    assert all(isinstance(r, ValueError) for r in results[1:]), "the bad request's batch shares its error"
    after = asyncio.run(batcher.submit([3], 1))
    batcher.close()
    assert after == [6], "the batcher keeps serving after a failed batch"


def test_serves_again_after_close() -> None:
    """An app's lifespan can end and start again (test clients do): closing must not strand later requests."""
    recorder = Recorder()
    recorder.release.set()
    batcher = batcher_for(recorder, max_contacts=10)
    batcher.close()
    assert asyncio.run(batcher.submit([1], 1)) == [2]
    batcher.close()
    assert not batcher._thread.is_alive()
    assert asyncio.run(batcher.submit([2], 1)) == [4]
    batcher.close()
