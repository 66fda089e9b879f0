"""A dynamic batcher, as model servers have: requests arriving together are scored in one call.

Each model has one batcher thread. A request hands its contacts over and awaits the result; the thread
takes the first waiting request, keeps collecting for at most `max_wait_s` (or until `max_contacts` are
gathered), scores everything in one call and hands each request its slice back. One call on many contacts
costs little more than a call on one, so under load the per-call overhead is paid once per batch instead
of once per request, and the scoring runs off the event loop (NumPy and TensorFlow release the GIL), so
the server keeps parsing requests meanwhile. A thread, not an asyncio task, so that it serves any event
loop (uvicorn's, or the one per request of a test client).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Batch = TypeVar("Batch")
Result = TypeVar("Result")

DEFAULT_MAX_WAIT_S = 0.002
DEFAULT_MAX_CONTACTS = 2_048


class Batcher(Generic[Batch, Result]):
    """Scores work items in batches on its own thread.

    `concat` joins the items of several requests into one batch, `score` scores a batch and `split` cuts
    its result back into one result per request, given the number of contacts in each.
    """

    def __init__(
        self,
        name: str,
        score: Callable[[Batch], Result],
        concat: Callable[[Sequence[Batch]], Batch],
        split: Callable[[Result, Sequence[int]], list[Result]],
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        max_contacts: int = DEFAULT_MAX_CONTACTS,
    ) -> None:
        self.name = name
        self._score, self._concat, self._split = score, concat, split
        self.max_wait_s, self.max_contacts = max_wait_s, max_contacts
        self._queue: queue.SimpleQueue[tuple[Batch, int, Future] | None] = queue.SimpleQueue()
        self._held: tuple[Batch, int, Future] | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def submit(self, items: Batch, n_contacts: int) -> Result:
        """Queue one request's contacts and wait for their scores (errors of the batch are raised here)."""
        future: Future = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():  # first use, or used again after close
                self._thread = threading.Thread(target=self._loop, name=f"batcher-{self.name}", daemon=True)
                self._thread.start()
            self._queue.put((items, n_contacts, future))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the thread once the requests already queued are answered (an app's lifespan may end and
        start again, as test clients do: the next request starts a new thread)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                return
            self._queue.put(None)
            thread = self._thread
        thread.join(timeout=10)

    def _next(self, timeout_s: float | None) -> tuple[Batch, int, Future] | None:
        """The request held back from the last batch, else the next queued one (None: stop)."""
        if self._held is not None:
            item, self._held = self._held, None
            return item
        return (
            self._queue.get(timeout=timeout_s)
            if timeout_s is None or timeout_s > 0
            else self._queue.get_nowait()
        )

    def _collect(self) -> tuple[list[tuple[Batch, int, Future]], bool]:
        """The first waiting request plus those arriving within `max_wait_s`, up to `max_contacts` in all
        (a request that would pass the cap waits for the next batch; a single one larger than it goes alone).
        Requests whose caller has gone (cancelled) are dropped."""
        first = self._next(None)
        if first is None:
            return [], True
        waiting, contacts = [first], first[1]
        deadline = time.monotonic() + self.max_wait_s
        while contacts < self.max_contacts:
            try:
                item = self._next(deadline - time.monotonic())
            except queue.Empty:
                break
            if item is None:
                return self._running(waiting), True
            if contacts + item[1] > self.max_contacts:
                self._held = item
                break
            waiting.append(item)
            contacts += item[1]
        return self._running(waiting), False

    @staticmethod
    def _running(waiting: list[tuple[Batch, int, Future]]) -> list[tuple[Batch, int, Future]]:
        return [item for item in waiting if item[2].set_running_or_notify_cancel()]

    def _loop(self) -> None:
        stop = False
        while not stop:
            waiting, stop = self._collect()
            if not waiting:
                continue
            try:
                batch = self._concat([items for items, _, _ in waiting])
                results = self._split(self._score(batch), [n for _, n, _ in waiting])
            except Exception as error:  # the requests of this batch get the error; the thread carries on
                log.exception("batcher %s: scoring a batch of %d requests failed", self.name, len(waiting))
                for _, _, future in waiting:
                    future.set_exception(error)
                continue
            for (_, _, future), result in zip(waiting, results, strict=True):
                future.set_result(result)
