"""`drill schedule` with a short cron interval and real drills: restores into scratch PostgreSQL
clusters, run as a user runs it (a subprocess), its log lines stamped by the test as they arrive.

A slow integrity query (pg_sleep) makes a drill outlast the interval on purpose.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from drill.config import load_config
from drill.scheduler import Group, NothingToSchedule, plan
from tests.drill.restore.conftest import postmasters_under
from tests.pg_dumps import dumps_for

CONFIG = """
[report]
dir = "reports"

[policy]
copies = 1
media = 1
offsite = 0
immutable = 0

[restore]
work_dir = "{work_dir}"

[schedule]
cron = "{cron}"

[[targets]]
name = "local"
type = "filesystem"
path = "backups"
site = "office"

[[databases]]
name = "orders"
site = "prod"
targets = ["local"]
snapshot_pattern = "orders/*.dump"
{checks}
"""
SLOW = """[[databases.checks]]
name = "takes a while"
sql = "SELECT 1 FROM pg_sleep({seconds})"
expect = "== 1"
"""


class Scheduler:
    """A `drill schedule` child whose stderr lines are read and stamped as they come."""

    def __init__(self, config: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "drill", "schedule", "-c", str(config), "--grace", "30"],
            cwd=config.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, text: str, *, count: int = 1, timeout: float = 60) -> float:
        """When the ``count``-th line holding ``text`` arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [stamp for stamp, line in list(self.lines) if text in line]
            if len(found) >= count:
                return found[count - 1]
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {count}x {text!r} within {timeout}s:\n{self.log}")

    def count(self, text: str, since: float = 0, until: float = float("inf")) -> int:
        return sum(1 for stamp, line in list(self.lines) if text in line and since <= stamp < until)

    @property
    def log(self) -> str:
        return "\n".join(line for _, line in list(self.lines))

    def stop(self, timeout: float = 45) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def work_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="drill-schedule-test-"))
    path.chmod(0o755)  # the scratch server may run as the postgres user
    yield path
    for pid in postmasters_under(path):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def estate(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dump = tmp_path / "backups" / "orders" / "orders-1.dump"
    dump.parent.mkdir(parents=True)
    shutil.copyfile(dumps_for(tmp_path_factory).custom, dump)
    return tmp_path


def configure(estate: Path, work_dir: Path, *, cron: str, slow: float | None) -> Path:
    config = estate / "drill.toml"
    checks = SLOW.format(seconds=slow) if slow else ""
    config.write_text(CONFIG.format(work_dir=work_dir, cron=cron, checks=checks))
    return config


def drills(estate: Path) -> list[tuple[datetime, datetime]]:
    history = estate / "reports" / "history.jsonl"
    lines = history.read_text().splitlines() if history.exists() else []
    return [
        (datetime.fromisoformat(entry["started_at"]), datetime.fromisoformat(entry["finished_at"]))
        for entry in map(json.loads, lines)
        if entry["command"] == "run"
    ]


def assert_no_overlap(runs: list[tuple[datetime, datetime]]) -> None:
    ordered = sorted(runs)
    for (_, finished), (started, _) in itertools.pairwise(ordered):
        assert started >= finished, f"two drills of orders overlapped: {ordered}"


def assert_nothing_left(work_dir: Path) -> None:
    assert list(work_dir.iterdir()) == []
    assert postmasters_under(work_dir) == []


# The plan.


def test_databases_sharing_a_cron_expression_are_one_group_and_their_own_schedule_wins(
    tmp_path: Path,
) -> None:
    (tmp_path / "backups").mkdir()
    text = CONFIG.format(work_dir=tmp_path, cron="0 3 * * *", checks="")
    for name, schedule in (
        ("billing", ""),
        ("ledger", 'schedule = "0  */6 * * *"'),
        ("audit", 'schedule = "0 */6 * * *"'),
    ):
        text += f'\n[[databases]]\nname = "{name}"\nsite = "prod"\ntargets = ["local"]\nsnapshot_pattern = "{name}/*"\n{schedule}\n'
    (tmp_path / "drill.toml").write_text(text)
    groups = plan(load_config(tmp_path / "drill.toml").config)
    assert groups == (Group("0 3 * * *", ("orders", "billing")), Group("0 */6 * * *", ("ledger", "audit")))


def test_a_config_with_no_cron_anywhere_has_nothing_to_schedule(estate: Path, work_dir: Path) -> None:
    config = configure(estate, work_dir, cron="0 3 * * *", slow=None)
    config.write_text(config.read_text().replace('cron = "0 3 * * *"', ""))
    with pytest.raises(NothingToSchedule):
        plan(load_config(config).config)
    result = subprocess.run(
        [sys.executable, "-m", "drill", "schedule", "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"{config}: schedule.cron: nothing to schedule: set [schedule] cron, or schedule on a database."
    )


def test_a_bad_cron_expression_is_a_config_error_naming_the_key(estate: Path, work_dir: Path) -> None:
    config = configure(estate, work_dir, cron="61 3 * * *", slow=None)
    result = subprocess.run(
        [sys.executable, "-m", "drill", "validate", "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"{config}: schedule.cron: '61 3 * * *' is not a valid cron expression")


# Running.


def test_drills_run_on_time_never_overlap_and_sigterm_aborts_the_one_in_progress_cleanly(
    estate: Path, work_dir: Path
) -> None:
    config = configure(estate, work_dir, cron="*/2 * * * * *", slow=3)
    scheduler = Scheduler(config)
    try:
        finished = scheduler.wait_for("drill finished: ")
        # The first drill outlasted the interval: the firing that came meanwhile was skipped, not started.
        assert scheduler.count("skipped: the previous one is still running", until=finished) >= 1
        assert scheduler.count("drill started", until=finished) == 1
        second = scheduler.wait_for("drill started", count=2)
        time.sleep(
            max(0.0, second + 2.5 - time.monotonic())
        )  # in the middle of its restore or its slow query
        assert scheduler.stop() == 0
    finally:
        scheduler.kill()
    log = scheduler.log
    assert "drill aborted by the shutdown" in log and log.rstrip().endswith("stopped")
    report = log.split("report: ")[1].splitlines()[0]
    assert Path(report).is_file()
    # The aborted drill recorded its run, marked interrupted; it is no drill that finished.
    lines = [json.loads(line) for line in (estate / "reports" / "history.jsonl").read_text().splitlines()]
    assert [line.get("interrupted") for line in lines if line["command"] == "run"] == [None, "SIGTERM"]
    assert_nothing_left(work_dir)


def test_two_schedulers_never_drill_the_same_database_at_once(estate: Path, work_dir: Path) -> None:
    config = configure(estate, work_dir, cron="*/2 * * * * *", slow=2)
    first, second = Scheduler(config), Scheduler(config)
    try:
        deadline = time.monotonic() + 60
        while len(drills(estate)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        first.wait_for("drill finished: ")
        assert first.stop() == 0 and second.stop() == 0
    finally:
        first.kill()
        second.kill()
    assert len(drills(estate)) >= 2
    assert_no_overlap(drills(estate))
    # Both fired on the same seconds; whichever came second found the lock taken.
    skipped = first.count("another process is drilling") + second.count("another process is drilling")
    assert skipped >= 1, first.log + "\n---\n" + second.log
    assert_nothing_left(work_dir)


def test_firings_missed_while_paused_are_coalesced_into_one_drill(estate: Path, work_dir: Path) -> None:
    config = configure(estate, work_dir, cron="*/3 * * * * *", slow=1.5)
    scheduler = Scheduler(config)
    try:
        scheduler.wait_for("drill finished: ")
        scheduler.process.send_signal(signal.SIGSTOP)  # a paused process: three or more firings go by
        time.sleep(10)
        resumed = time.monotonic()
        scheduler.process.send_signal(signal.SIGCONT)
        scheduler.wait_for("drill started", count=2)
        time.sleep(max(0.0, resumed + 2.0 - time.monotonic()))
        # One drill for all the missed firings (a drill takes longer than these 2 s, so a regular
        # firing in the window would be skipped as still running, not started).
        assert scheduler.count("drill started", since=resumed, until=resumed + 2.0) == 1, scheduler.log
        scheduler.wait_for("drill finished: ", count=2)
        assert scheduler.stop() == 0
    finally:
        scheduler.kill()
    assert_no_overlap(drills(estate))
    assert_nothing_left(work_dir)


def test_drill_run_skips_a_database_another_drill_holds_and_exits_4_when_nothing_is_left(
    estate: Path, work_dir: Path
) -> None:
    config = configure(estate, work_dir, cron="0 3 * * *", slow=4)
    environ = {**os.environ, "CI": os.environ.get("CI", "")}
    first = subprocess.Popen(
        [sys.executable, "-m", "drill", "run", "-c", str(config)],
        cwd=estate,
        env=environ,
        stdout=subprocess.DEVNULL,
    )
    try:
        lock = estate / "reports" / "locks" / "orders.lock"
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = subprocess.run(
            [sys.executable, "-m", "drill", "run", "-c", str(config)],
            cwd=estate,
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 4, second.stdout + second.stderr
        assert f"orders: skipped: another drill of it is running (pid {first.pid}" in second.stderr
        assert first.wait(timeout=60) in (0, 3)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert len(drills(estate)) == 1
    assert_nothing_left(work_dir)
