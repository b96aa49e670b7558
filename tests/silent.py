"""An endpoint that accepts every connection and never answers: the hang a storage endpoint can cause.

Unlike a listening socket nobody accepts on (its backlog fills, and later connections time out at
connect), this one accepts each connection and holds it open, reading nothing, so every request
drill sends waits for an answer that never comes, as behind a proxy or load balancer whose backend
stopped. ``accepted`` counts the connections, so a test knows drill is waiting on one.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Silent:
    port: int
    accepted: int = 0
    held: list[socket.socket] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def never_answering() -> Iterator[Silent]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    silent = Silent(listener.getsockname()[1])

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # the listener was closed: the block ended
                return
            silent.held.append(connection)
            silent.accepted += 1

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield silent
    finally:
        listener.close()
        for connection in silent.held:
            connection.close()
