"""Stopping a run: SIGTERM or Ctrl-C, and endpoints that stopped answering.

One switch per process, on purpose: a signal reaches the process, not a call, and the storage and
trust clients that must refuse further calls are built deep inside the backends. The switch is
reset by ``armed()`` at the start of every run.

- **Interrupted.** The first SIGTERM or SIGINT records its name; from then on every cloud call is
  refused before it is sent (``drill.clouds.bounded``), collection stops waiting for the calls in flight
  (their threads are abandoned: a read of an endpoint that never answers ends only with its read
  timeout), and the engine assembles a run marked interrupted from what it has. While a restore
  drill runs, the signal also raises ``Interrupted`` in the main thread, so that the drill unwinds
  as it would on Ctrl-C and its scratch server and files are removed. Further signals are ignored
  until the run is recorded.
- **Unanswered.** An endpoint that let one call time out is asked nothing more in this run: every
  further call to it is refused at once, so a target whose endpoint accepts connections and never
  answers costs one read timeout, not one per call and retry.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType


class Interrupted(BaseException):
    """Raised in the main thread by a signal during a restore drill; BaseException, as KeyboardInterrupt
    is, so that no ``except Exception`` of the drill swallows it."""

    def __init__(self, signal_name: str) -> None:
        self.signal_name = signal_name
        super().__init__(signal_name)


@dataclass(frozen=True)
class Stopped:
    """Why the run stopped: the signal's name (SIGTERM, SIGINT) and its number."""

    signal_name: str
    signal_number: int

    @property
    def reason(self) -> str:
        return f"the run was interrupted by {self.signal_name}"


class _Switch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stopped: Stopped | None = None
        self.unwinding = False  # a restore drill runs: a signal raises Interrupted in the main thread
        self._unanswered: dict[str, str] = {}

    def reset(self) -> None:
        with self._lock:
            self.stopped, self.unwinding, self._unanswered = None, False, {}

    def stop(self, signal_number: int) -> bool:
        """Record the signal; False when the run was already stopped."""
        with self._lock:
            if self.stopped is not None:
                return False
            self.stopped = Stopped(signal.Signals(signal_number).name, signal_number)
            return True

    def forget_unanswered(self) -> None:
        with self._lock:
            self._unanswered = {}

    def unanswered(self, endpoint: str, reason: str) -> None:
        with self._lock:
            self._unanswered.setdefault(endpoint, reason)

    def refusal(self, endpoint: str) -> str | None:
        """Why no call may be sent to ``endpoint`` (scheme://host:port) any more, or None."""
        stopped = self.stopped
        if stopped is not None:
            return f"Not asked: {stopped.reason}."
        reason = self._unanswered.get(endpoint)
        if reason is not None:
            return f"Not asked: {endpoint} {reason}, so drill asked it nothing more in this run."
        return None


SWITCH = _Switch()


def _on_signal(signal_number: int, frame: FrameType | None) -> None:
    # Python runs handlers in the main thread, between two of its bytecodes.
    if SWITCH.stop(signal_number) and SWITCH.unwinding:
        raise Interrupted(signal.Signals(signal_number).name)


@contextmanager
def armed() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT stop the run instead of killing it; the switch starts clear."""
    SWITCH.reset()
    previous = {number: signal.signal(number, _on_signal) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def unwinding() -> Iterator[None]:
    """Within the block (a restore drill), a signal also raises Interrupted, so the drill cleans up.

    A signal that came before the block raises at once: the drill must not start.
    """
    stopped = SWITCH.stopped
    if stopped is not None:
        raise Interrupted(stopped.signal_name)
    SWITCH.unwinding = True
    try:
        yield
    finally:
        SWITCH.unwinding = False
