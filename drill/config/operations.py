"""The operations part of the TOML contract: ``[schedule]``, ``[metrics]`` and ``[notify]``."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Annotated

from pydantic import Field, field_validator

from drill.config.types import Duration, Frozen
from drill.cron import zone


class ScheduleSettings(Frozen):
    """When ``drill schedule`` drills: cron expressions, read in one time zone."""

    cron: str | None = None  # every database without its own `schedule`; 5 fields, or 6 with seconds first
    timezone: str = "UTC"  # an IANA name; the cron expressions are read in it (daylight saving included)
    lock_dir: str | None = None  # the per-database lock files; default <report dir>/locks

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        zone(name)
        return name


class MetricsSettings(Frozen):
    """Prometheus metrics after each run: a file for node_exporter, and optionally a Pushgateway."""

    textfile: str | None = None  # rewritten atomically after each run, e.g. .../textfile_collector/drill.prom
    pushgateway_env: str | None = None  # the variable holding the Pushgateway URL (it may carry credentials)
    job: str = Field("drill", min_length=1)
    timeout: Duration = timedelta(seconds=10)


class NotifyEvent(enum.StrEnum):
    FAILURE = "failure"  # the run failed or could not verify something
    RECOVERY = "recovery"  # the first passing run after a failing one
    SUCCESS = "success"  # every passing run


class HeartbeatStyle(enum.StrEnum):
    HEALTHCHECKS = "healthchecks"  # <url>/start as a run begins, <url> when it passes, <url>/fail when not
    PLAIN = "plain"  # one GET of <url> after each passing run, for monitors that know no /start or /fail


class NotifySettings(Frozen):
    """Who hears about a run: a chat webhook, and a dead man's switch that expects a ping per passing run."""

    webhook_env: str | None = None  # the variable holding a Slack-compatible incoming-webhook URL
    on: tuple[Annotated[NotifyEvent, Field(strict=False)], ...] = (NotifyEvent.FAILURE,)
    heartbeat_env: str | None = None  # the variable holding a healthchecks-style URL, pinged on success
    timeout: Duration = timedelta(seconds=10)  # per attempt
    retries: int = Field(3, ge=0, le=10)  # attempts after the first, with a growing pause between
    heartbeat_style: Annotated[HeartbeatStyle, Field(strict=False)] = HeartbeatStyle.HEALTHCHECKS
    max_retry_wait: Duration = timedelta(seconds=30)  # the longest pause, a server's Retry-After included
    max_retry_time: Duration = timedelta(minutes=2)  # one delivery's attempts and pauses together
