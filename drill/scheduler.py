"""``drill schedule``: a long-running process that drills on the cron expressions of ``[schedule]``.

Databases that share a cron expression are drilled together, one ``drill run`` child process per
firing, so that every drill is exactly what ``drill run`` does from cron or Kubernetes (its
locks, report, metrics and notifications included) and a crash in one drill cannot take the
scheduler down. APScheduler decides when:

- a firing that comes while the previous drill of the same group is still running is skipped
  and logged (``max_instances = 1``), never started beside it;
- firings missed while the process was paused or the machine slept are coalesced into one run,
  however late (``coalesce``, no misfire grace limit): a late drill beats no drill;
- a second scheduler, or a ``drill run`` started by hand, is kept out by the per-database lock
  the child takes (see ``drill.locks``); the child then exits 4 and the firing is logged skipped.

SIGTERM or SIGINT stops the scheduler: no new drill starts, the running children get SIGTERM,
which makes them stop their scratch servers and remove their temporary directories, and the
scheduler exits once they have (or kills them after ``grace`` seconds).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from drill.config import Config
from drill.cron import trigger, zone
from drill.exits import Exit, interrupted_by

LOG = logging.getLogger("drill.schedule")


@dataclass(frozen=True)
class Group:
    """Databases drilled together because they share a cron expression."""

    cron: str
    databases: tuple[str, ...]

    @property
    def name(self) -> str:
        return ", ".join(self.databases)


class NothingToSchedule(ValueError):
    pass


def plan(config: Config) -> tuple[Group, ...]:
    """Each database on its own ``schedule`` or on ``[schedule] cron``; databases sharing one are one group."""
    by_cron: dict[str, list[str]] = {}
    for database in config.databases:
        cron = database.schedule or config.schedule.cron
        if cron is not None:
            by_cron.setdefault(" ".join(cron.split()), []).append(database.name)
    if not by_cron:
        raise NothingToSchedule(
            "nothing to schedule: set [schedule] cron, or schedule on a database"
            if config.databases
            else "nothing to schedule: the config names no database"
        )
    return tuple(Group(cron, tuple(names)) for cron, names in by_cron.items())


@dataclass(frozen=True)
class Finished:
    group: Group
    exit_code: int
    status: str | None
    run_id: str | None
    seconds: float


class Launcher:
    """Starts one ``drill run`` child per firing and reports how it ended."""

    def __init__(
        self,
        config_path: Path,
        report_path: Callable[[str], Path],
        *,
        environ: Mapping[str, str] | None = None,
        command: tuple[str, ...] = (sys.executable, "-m", "drill"),
    ) -> None:
        self.config_path = config_path
        self.report_path = report_path
        self.environ = dict(os.environ if environ is None else environ)
        self.command = command
        self.stopping = threading.Event()
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def __call__(self, group: Group) -> Finished | None:
        if self.stopping.is_set():
            return None
        with tempfile.TemporaryDirectory(prefix="drill-schedule-") as scratch:
            record = Path(scratch) / "run.json"
            arguments = [*self.command, "run", "-c", str(self.config_path), "--json", str(record)]
            for database in group.databases:
                arguments += ["--database", database]
            started = time.monotonic()
            with self._lock:
                if self.stopping.is_set():
                    return None
                # Its own session: a terminal's Ctrl-C reaches the scheduler, which decides what the child gets.
                child = subprocess.Popen(arguments, env=self.environ, start_new_session=True)
                self._children[child.pid] = child
            LOG.info("%s: drill started (pid %d, cron %r)", group.name, child.pid, group.cron)
            try:
                code = child.wait()
            finally:
                with self._lock:
                    self._children.pop(child.pid, None)
            finished = Finished(group, code, *_outcome(record), time.monotonic() - started)
        self._log(finished)
        return finished

    def _log(self, finished: Finished) -> None:
        group = finished.group.name
        if finished.exit_code == Exit.BUSY:
            LOG.warning("%s: drill skipped: another process is drilling these databases.", group)
        elif self.stopping.is_set() and (finished.run_id is None or finished.exit_code == _STOPPED):
            # A drill stopped by our SIGTERM records its run as interrupted (drill.stopping).
            recorded = (
                f" and recorded its run as interrupted ({self.report_path(finished.run_id)})"
                if finished.run_id
                else ""
            )
            LOG.info(
                "%s: drill aborted by the shutdown after %.1fs; it cleaned up%s.",
                group,
                finished.seconds,
                recorded,
            )
        elif finished.run_id is None:
            LOG.error(
                "%s: drill ended with exit code %d after %.1fs and wrote no run.",
                group,
                finished.exit_code,
                finished.seconds,
            )
        else:
            LOG.info(
                "%s: drill finished: %s in %.1fs; report: %s",
                group,
                (finished.status or "?").upper(),
                finished.seconds,
                self.report_path(finished.run_id),
            )

    def stop(self) -> None:
        """No new child from now on; the running ones get SIGTERM and clean up after themselves."""
        with self._lock:
            if self.stopping.is_set():
                return
            self.stopping.set()
            children = list(self._children.values())
        for child in children:
            LOG.info("stopping the drill in progress (pid %d)", child.pid)
            _signal(child, signal.SIGTERM)

    def wait(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        while True:
            with self._lock:
                children = list(self._children.values())
            if not children:
                return
            if time.monotonic() > deadline:
                for child in children:
                    LOG.error(
                        "the drill in progress (pid %d) did not stop within %.0fs; killed", child.pid, grace
                    )
                    _signal(child, signal.SIGKILL)
                return
            time.sleep(0.1)


_STOPPED = interrupted_by(signal.SIGTERM)  # the exit code of a drill run the shutdown stopped


def _signal(child: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)  # the child's session: pg_restore and friends too


def _outcome(record: Path) -> tuple[str | None, str | None]:
    try:
        data: Any = json.loads(record.read_text())
    except (OSError, ValueError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    return str(data.get("status")), str(data.get("run_id"))


def serve(config: Config, launcher: Launcher, *, grace: float = 60.0) -> None:
    """Run until SIGTERM or SIGINT; the caller has validated the config and made the launcher."""
    from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent  # noqa: PLC0415
    from apscheduler.executors.pool import ThreadPoolExecutor  # noqa: PLC0415
    from apscheduler.schedulers.blocking import BlockingScheduler  # noqa: PLC0415

    groups = plan(config)
    timezone = config.schedule.timezone
    scheduler = BlockingScheduler(
        timezone=zone(timezone),
        executors={"default": ThreadPoolExecutor(max_workers=len(groups))},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    # APScheduler narrates every job at INFO and says "skipped" in its own words: ours name the databases.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    names: dict[str, Group] = {}
    for index, group in enumerate(groups):
        when = trigger(group.cron, timezone)
        job = scheduler.add_job(launcher, when, args=(group,), id=f"group-{index}", name=group.name)
        names[job.id] = group
        first = when.get_next_fire_time(None, datetime.now(zone(timezone)))
        LOG.info("%s: scheduled on %r (%s); first drill at %s", group.name, group.cron, timezone, first)

    def still_running(event: JobSubmissionEvent) -> None:
        LOG.warning(
            "%s: drill due at %s skipped: the previous one is still running.",
            names[event.job_id].name,
            event.scheduled_run_times[-1],
        )

    scheduler.add_listener(still_running, EVENT_JOB_MAX_INSTANCES)

    def stop(signum: int, frame: FrameType | None) -> None:
        if launcher.stopping.is_set():  # a second signal (a wrapper forwarding it, say) changes nothing
            return
        LOG.info("received %s: stopping", signal.Signals(signum).name)
        launcher.stop()
        if scheduler.running:
            scheduler.shutdown(wait=False)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.start()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        launcher.stop()
        launcher.wait(grace)
        LOG.info("stopped")
