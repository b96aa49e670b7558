"""One drill of a database at a time across processes: real processes hold and lose the locks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from drill.locks import Acquired, Busy, database_lock, database_locks, lock_path

HOLD = """
import sys, time
from pathlib import Path
from drill.locks import database_lock
with database_lock(Path(sys.argv[1]), "orders", "drill run -d orders") as outcome:
    print(type(outcome).__name__, flush=True)
    time.sleep(60)
"""


def holder(lock_dir: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock_dir)], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "Acquired"
    return child


def test_a_free_lock_is_taken_and_released(tmp_path: Path) -> None:
    with database_lock(tmp_path, "orders", "drill run") as outcome:
        assert isinstance(outcome, Acquired) and outcome.stale is None
        assert f'"pid": {os.getpid()}' in lock_path(tmp_path, "orders").read_text()
    assert lock_path(tmp_path, "orders").read_text() == ""  # released: nobody holds it
    with database_lock(tmp_path, "orders", "drill run") as again:
        assert isinstance(again, Acquired) and again.stale is None


def test_a_lock_held_by_another_process_is_busy_and_names_its_holder(tmp_path: Path) -> None:
    child = holder(tmp_path)
    try:
        with database_lock(tmp_path, "orders", "drill run") as outcome:
            assert isinstance(outcome, Busy)
            described = outcome.holder.describe()
            assert f"pid {child.pid}" in described and "drill run -d orders" in described
        # Another database is not affected.
        with database_lock(tmp_path, "billing", "drill run") as other:
            assert isinstance(other, Acquired)
    finally:
        child.kill()
        child.wait()


def test_the_lock_of_a_killed_holder_is_stale_and_taken_over_naming_it(tmp_path: Path) -> None:
    child = holder(tmp_path)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with database_lock(tmp_path, "orders", "drill run") as outcome:
        assert isinstance(outcome, Acquired)
        assert outcome.stale is not None and outcome.stale.pid == child.pid


def test_several_locks_take_what_is_free_and_report_the_rest(tmp_path: Path) -> None:
    child = holder(tmp_path)
    try:
        with database_locks(tmp_path, ["billing", "orders", "ledger"], "drill run") as locked:
            assert locked.databases == ("billing", "ledger")
            assert [busy.database for busy in locked.busy] == ["orders"]
        # All released on exit.
        for name in ("billing", "ledger"):
            assert lock_path(tmp_path, name).read_text() == ""
    finally:
        child.kill()
        child.wait()


def test_a_held_lock_is_released_when_the_body_raises(tmp_path: Path) -> None:
    try:
        with database_lock(tmp_path, "orders", "drill run"):
            raise RuntimeError("the drill broke")
    except RuntimeError:
        pass
    start = time.monotonic()
    with database_lock(tmp_path, "orders", "drill run") as outcome:
        assert isinstance(outcome, Acquired) and outcome.stale is None
    assert time.monotonic() - start < 1
