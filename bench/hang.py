"""How long drill waits for a storage endpoint that accepts connections and never answers, and how
long it takes to stop after SIGTERM or Ctrl-C there.

    python bench/hang.py                 # 5 signals of each kind, 3 s into the hang; about 1 minute
    python bench/hang.py --repeats 2

The endpoint is a socket server in this script: it accepts every connection, holds it, reads
nothing. The config holds that S3 target and a small directory target. Measured, per case:

- ``drill check`` left alone: wall time until it exits, with its exit code (every read of the
  silent bucket ends as ``error``; the run is recorded);
- ``drill check`` and ``drill run`` sent SIGTERM or SIGINT 3 s after start: seconds from the signal
  to the process's exit, the exit code, and whether the run record says ``interrupted``.

A measurement, never a pass/fail; results also go to ``bench/out/hang.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "hang.json"
CONFIG = """
[report]
dir = "reports"

[[targets]]
name = "vault"
type = "s3"
bucket = "vault"
prefix = "pg"
region = "us-east-1"
endpoint_url = "http://127.0.0.1:{port}"
site = "aws:222:eu-central-1"
credentials = {{ access_key_id_env = "BENCH_KEY_ID", secret_access_key_env = "BENCH_SECRET" }}

[[targets]]
name = "nas"
type = "filesystem"
path = "nas"
prefix = "pg"
site = "office"
media = "disk"

[[databases]]
name = "orders"
site = "aws:111:eu-west-1"
targets = ["vault", "nas"]
snapshot_pattern = "orders/*.dump"
"""


def silent_endpoint() -> int:
    """A port whose connections are accepted and held, never answered, until this process ends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            connection, _ = listener.accept()
            held.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    port: int = listener.getsockname()[1]
    return port


def workspace(port: int) -> Path:
    root = Path(tempfile.mkdtemp(prefix="drill-bench-hang-"))
    (root / "nas" / "pg" / "orders").mkdir(parents=True)
    (root / "nas" / "pg" / "orders" / "orders-1.dump").write_bytes(b"PGDMP" + b"x" * 4096)
    (root / "drill.toml").write_text(CONFIG.format(port=port))
    return root


def start(root: Path, command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "drill", command, "-c", "drill.toml", "--json", "run.json"],
        cwd=root,
        env={**os.environ, "BENCH_KEY_ID": "bench", "BENCH_SECRET": "bench"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def left_alone(root: Path) -> dict[str, Any]:
    started = time.monotonic()
    process = start(root, "check")
    code = process.wait(timeout=1800)
    return {"seconds": round(time.monotonic() - started, 2), "exit": code}


def signalled(root: Path, command: str, signal_number: int, after: float) -> dict[str, Any]:
    (root / "run.json").unlink(missing_ok=True)
    process = start(root, command)
    time.sleep(after)
    sent = time.monotonic()
    process.send_signal(signal_number)
    code = process.wait(timeout=1800)
    stopped = time.monotonic() - sent
    record = json.loads((root / "run.json").read_text()) if (root / "run.json").is_file() else {}
    return {"seconds": round(stopped, 2), "exit": code, "interrupted": record.get("interrupted")}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--after", type=float, default=3.0, help="seconds before the signal")
    options = parser.parse_args()
    root = workspace(silent_endpoint())
    results: dict[str, Any] = {"left_alone": left_alone(root)}
    print(f"drill check, silent endpoint, no signal: {results['left_alone']}")
    for command in ("check", "run"):
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            name = f"{command} {signal.Signals(signal_number).name}"
            runs = [signalled(root, command, signal_number, options.after) for _ in range(options.repeats)]
            seconds = [run["seconds"] for run in runs]
            results[name] = {
                "runs": runs,
                "min": min(seconds),
                "median": statistics.median(seconds),
                "max": max(seconds),
            }
            print(
                f"drill {name} {options.after:.0f} s into the hang: stopped in "
                f"{min(seconds):.2f} / {statistics.median(seconds):.2f} / {max(seconds):.2f} s (min/median/max), "
                f"exit {sorted({run['exit'] for run in runs})}, interrupted {runs[-1]['interrupted']}"
            )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
