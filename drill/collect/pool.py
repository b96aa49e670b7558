"""A bounded pool of worker threads that a run can walk away from, and per-target deadlines.

``concurrent.futures.ThreadPoolExecutor`` joins its workers when its block ends and again when the
interpreter exits, so one read of an endpoint that never answers would hold the whole run until
that read's own timeout. The workers here are daemon threads and nothing joins them: when a
target runs past ``[run] timeout``, or the run is interrupted, the main thread stops waiting, the
read in flight is abandoned (it ends with its read timeout, or with the process), and the fact
it was to fetch becomes an ``Unavailable`` that says why.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta
from typing import Any, TypeVar

from drill.durations import format_duration
from drill.model import Unavailable
from drill.stopping import SWITCH

T = TypeVar("T")
POLL_SECONDS = 0.2  # how soon a waiting main thread notices a signal
_Work = tuple[Future[Any], Callable[[], Any]]


class DaemonPool:
    """At most ``workers`` calls at once, on daemon threads started as work arrives; never joined."""

    def __init__(self, workers: int, name: str) -> None:
        self._workers = max(1, workers)
        self._name = name
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def submit(self, call: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((future, call))
        if len(self._threads) < self._workers:
            thread = threading.Thread(
                target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        return future

    def _work(self) -> None:
        while (work := self._queue.get()) is not None:
            future, call = work
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as error:
                future.set_exception(error)

    def close(self) -> None:
        """Let idle workers end; a worker still in a call ends when the call does."""
        for _ in self._threads:
            self._queue.put(None)


class Deadlines:
    """Each target's reads may take ``timeout`` in all, counted from the first of them to start."""

    def __init__(self, timeout: timedelta) -> None:
        self.timeout = timeout
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def timed(self, name: str, call: Callable[[], T]) -> Callable[[], T]:
        """``call``, starting the target's clock when it starts."""

        def started() -> T:
            with self._lock:
                self._started.setdefault(name, time.monotonic())
            return call()

        return started

    def expired(self, name: str) -> bool:
        remaining = self._remaining(name)
        return remaining is not None and remaining <= 0

    def _remaining(self, name: str) -> float | None:
        with self._lock:
            started = self._started.get(name)
        return None if started is None else started + self.timeout.total_seconds() - time.monotonic()

    def overdue(self, name: str, what: str) -> Unavailable:
        return Unavailable(
            f"Target {name} did not answer within the run's timeout of {format_duration(self.timeout)} "
            f"([run] timeout): {what} never came back."
        )

    def result(self, future: Future[T], name: str, what: str) -> T | Unavailable:
        """The future's result, or Unavailable once the target's deadline passes or the run stops."""
        while True:
            stopped = SWITCH.stopped
            if stopped is not None and not future.done():
                future.cancel()
                return Unavailable(f"{what[0].upper()}{what[1:]} was not read: {stopped.reason}.")
            remaining = self._remaining(name)
            if remaining is not None and remaining <= 0 and not future.done():
                future.cancel()
                return self.overdue(name, what)
            try:
                return future.result(
                    timeout=POLL_SECONDS if remaining is None else min(POLL_SECONDS, remaining)
                )
            except FutureTimeout:
                continue
            except CancelledError:
                return self.overdue(name, what)


def settled(call: Callable[[], T], fallback: Callable[[], T], *, grace: float = 3.0) -> T:
    """``call`` run to its end, unless the run stops: then it has ``grace`` seconds (every cloud call
    it would still send is refused at once), and ``fallback()`` answers if it is not done by then."""
    pool = DaemonPool(1, "drill-settle")
    future = pool.submit(call)
    pool.close()
    stopped_at: float | None = None
    while True:
        try:
            return future.result(timeout=POLL_SECONDS)
        except FutureTimeout:
            if SWITCH.stopped is None:
                continue
            stopped_at = stopped_at or time.monotonic()
            if time.monotonic() - stopped_at >= grace:
                return fallback()
