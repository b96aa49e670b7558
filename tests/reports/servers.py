"""Real servers for the metrics and notification tests, each a context manager.

- ``receiver()``: a stdlib HTTP server on loopback that records every request and answers from a
  script (500, 500, then 200, say), for webhooks and heartbeats.
- ``silent_listener()``: a port whose connections the kernel accepts but no one ever answers.
- ``closed_port()``: a port nothing listens on.
- ``pushgateway()``: Debian's ``prometheus-pushgateway`` on a free loopback port, optionally behind
  basic auth. A missing binary skips the test on a workstation and fails it under CI (CI=true).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

PUSHGATEWAY = "prometheus-pushgateway"
# A bcrypt hash (cost 4, the fastest) of AUTH_PASSWORD for the gateway's --web.config.file; made once
# with crypt.crypt(AUTH_PASSWORD, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)).
AUTH_USER = "drill"
AUTH_PASSWORD = "s3cr3t-Pa55word"
_AUTH_HASH = "$2b$04$gE.7NLvtuYA1nNxinjLigOpyZzkkwU70VeEIKP1oaH5p5OL3mHvgK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections (bound, never listening, so no one else takes it)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A loopback port that completes every TCP handshake (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: str = "ok"
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()  # more headers, such as ("Retry-After", "1")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.monotonic() when it arrived

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What a ``receiver()`` saw; ``url(path)`` addresses it."""

    port: int
    requests: list[Recorded] = field(default_factory=list)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path: str) -> list[Recorded]:
        return [request for request in self.requests if request.path == path]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    script: list[Answer]
    record: Receiver
    lock: threading.Lock


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.record.requests.append(
                Recorded(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    time.monotonic(),
                )
            )
            answer = self.server.script.pop(0) if self.server.script else Answer()
        payload = answer.body.encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def receiver(*script: Answer) -> Iterator[Receiver]:
    """An HTTP server on loopback answering ``script`` in order, then 200 "ok", recording every request."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.script = list(script)
    server.lock = threading.Lock()
    server.record = Receiver(server.server_address[1])
    # A short poll interval: shutdown() waits for the loop's next poll (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.record
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def unavailable(reason: str) -> NoReturn:
    # The project's rule: under CI a missing dependency fails instead of skipping.
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the Pushgateway tests: {reason}")
    pytest.skip(reason)


def pushgateway_binary() -> str:
    path = shutil.which(PUSHGATEWAY) or (
        f"/usr/bin/{PUSHGATEWAY}" if Path(f"/usr/bin/{PUSHGATEWAY}").is_file() else None
    )
    if path is None:
        unavailable(f"{PUSHGATEWAY} is not installed (apt-get install prometheus-pushgateway).")
    return path


@dataclass(frozen=True)
class Gateway:
    port: int
    auth: tuple[str, str] | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def metrics(self) -> str:
        """The gateway's own exposition of everything pushed to it."""
        response = requests.get(f"{self.url}/metrics", auth=self.auth, timeout=10)
        response.raise_for_status()
        return response.text


@contextlib.contextmanager
def pushgateway(*, basic_auth: bool = False) -> Iterator[Gateway]:
    """A Pushgateway on a free loopback port with a temp persistence file, stopped on the way out."""
    binary = pushgateway_binary()
    with tempfile.TemporaryDirectory(prefix="drill-pushgateway-") as scratch:
        directory = Path(scratch)
        arguments = [binary, f"--persistence.file={directory / 'pushgateway.data'}", "--log.level=warn"]
        if basic_auth:
            config = directory / "web.yml"
            config.write_text(f'basic_auth_users:\n  {AUTH_USER}: "{_AUTH_HASH}"\n')
            arguments.append(f"--web.config.file={config}")
        auth = (AUTH_USER, AUTH_PASSWORD) if basic_auth else None
        for _ in range(3):  # another process may take the free port before the gateway binds it
            port = free_port()
            log = directory / "pushgateway.log"
            with log.open("wb") as output:
                process = subprocess.Popen(
                    [*arguments, f"--web.listen-address=127.0.0.1:{port}"],
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            try:
                if _ready(process, port, auth):
                    yield Gateway(port, auth)
                    return
            finally:
                _stop(process)
            if b"address already in use" not in log.read_bytes():
                break
        pytest.fail(f"{PUSHGATEWAY} did not start: {log.read_text(errors='replace')[-2000:]}")


def _ready(process: subprocess.Popen[bytes], port: int, auth: tuple[str, str] | None) -> bool:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if requests.get(f"http://127.0.0.1:{port}/-/ready", auth=auth, timeout=1).ok:
                return True
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def samples(exposition: str, name: str, **labels: str) -> list[tuple[dict[str, str], float]]:
    """Every sample of ``name`` in a text exposition whose labels include ``labels``."""
    found = []
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                found.append((dict(sample.labels), sample.value))
    return found


def values(exposition: str, name: str, key: str, **labels: str) -> dict[str, float]:
    """``{label value of key: value}`` of the samples of ``name`` matching ``labels``."""
    return {found[key]: value for found, value in samples(exposition, name, **labels)}


def all_text(lines: Iterable[str]) -> str:
    return "\n".join(lines)
