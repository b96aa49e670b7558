"""SIGTERM or Ctrl-C during `drill check`, while an S3 endpoint accepts connections and never answers
(a socket server in the test): drill stops, records the run marked interrupted (record, history line,
report, JUnit), and exits 128 + the signal. The test waits up to a minute, a guard against a hang
and no measurement: bench/interrupt.py measures how long drill takes to stop.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.silent import never_answering

CONFIG = """
[report]
dir = "reports"

[[targets]]
name = "vault"
type = "s3"
bucket = "vault"
prefix = "pg"
region = "us-east-1"
endpoint_url = "{endpoint}"
site = "aws:222:eu-central-1"
credentials = {{ access_key_id_env = "DRILL_E2E_KEY_ID", secret_access_key_env = "DRILL_E2E_SECRET" }}

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
ENVIRON = {"DRILL_E2E_KEY_ID": "testing", "DRILL_E2E_SECRET": "testing"}


def _waited_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(("signal_number", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_an_endpoint_never_answers_stops_drill_and_records_the_run_as_interrupted(
    tmp_path: Path, signal_number: signal.Signals, code: int
) -> None:
    (tmp_path / "nas" / "pg" / "orders").mkdir(parents=True)
    (tmp_path / "nas" / "pg" / "orders" / "orders-1.dump").write_bytes(b"PGDMP" + b"x" * 1000)
    with never_answering() as silent:
        (tmp_path / "drill.toml").write_text(CONFIG.format(endpoint=silent.url))
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "drill",
                "check",
                "-c",
                "drill.toml",
                "--json",
                "run.json",
                "--junit",
                "junit.xml",
            ],
            cwd=tmp_path,
            env={**os.environ, **ENVIRON},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert _waited_for(lambda: silent.accepted > 0, 30), "drill never called the endpoint"
            time.sleep(1)  # a few seconds into the hang, as the issue measured it
            process.send_signal(signal_number)
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()

    name = signal.Signals(signal_number).name
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert f"interrupted by {name}" in stderr and "no notification was sent" in stderr
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["interrupted"] == {"signal": name, "during": "posture"}
    assert run["status"] in ("fail", "error")  # never a pass
    statuses = {(f["check"], f["target"]): f for f in run["findings"]}
    # What was read before the signal keeps its verdict; what was still being read is an error saying why.
    assert statuses[("freshness", "nas")]["status"] == "pass"
    vault = statuses[("freshness", "vault")]
    assert vault["status"] == "error" and f"interrupted by {name}" in vault["message"]
    [run_dir] = (tmp_path / "reports" / "runs").iterdir()
    assert json.loads((run_dir / "run.json").read_text())["interrupted"]["signal"] == name
    assert f"Interrupted by {name}" in (run_dir / "report.html").read_text()
    history = json.loads((tmp_path / "reports" / "history.jsonl").read_text().splitlines()[-1])
    assert history["interrupted"] == name
    assert f"interrupted by {name}" in (tmp_path / "reports" / "index.html").read_text()
    junit = (tmp_path / "junit.xml").read_text()
    assert 'name="drill.run"' in junit and f"Interrupted by {name}" in junit
    assert f"Interrupted by {name}" in stdout


def test_a_call_still_in_flight_does_not_hold_an_interrupted_drill_after_its_record_is_written() -> None:
    """The interpreter joins non-daemon threads before it exits (the trust pool's are); after an
    interrupted run is recorded, a thread blocked in a read of a silent endpoint must not hold drill.
    Here a thread that sleeps for ten minutes stands for that read."""
    code = (
        "import signal, sys, threading, time\n"
        "from drill.stopping import SWITCH\n"
        "from drill.cli import main\n"
        "threading.Thread(target=time.sleep, args=(600,)).start()\n"
        "SWITCH.stop(signal.SIGTERM)\n"
        "sys.argv = ['drill', 'version']\n"
        "main()\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )

    assert process.returncode == 0 and process.stdout.strip(), process.stderr
