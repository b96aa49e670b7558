"""Runs the notification tests announce, the secrets no line may show, and their notify settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from drill.config import NotifyEvent, NotifySettings
from drill.model import DrillRun, Status
from tests.reports.runs import at, drill, finding, make_run

STARTED = at(20, 2)
REPORT = "/var/lib/drill/runs/20260721T020000Z-00000000/report.html"
HOOK_PATH = "/services/T000/B000/SECRETTOKEN"
PING_PATH = "/ping/0f1e2d3c-uuid-PINGSECRET?rid=QUERYSECRET"
SECRETS = ("SECRETTOKEN", "PINGSECRET", "QUERYSECRET", "/services/T000")

FAILURE, RECOVERY, SUCCESS = NotifyEvent.FAILURE, NotifyEvent.RECOVERY, NotifyEvent.SUCCESS


def failing_run() -> DrillRun:
    return make_run(
        STARTED,
        drill("orders", restore=Status.FAIL),
        finding(
            "freshness",
            Status.FAIL,
            database="billing",
            target="vault",
            message="Newest snapshot is 30h old (limit 26h).",
        ),
        finding("immutability", Status.ERROR, database=None, target="vault", message="Access denied."),
        finding("copies_3_2_1", database="billing"),
        databases=("orders", "billing"),
    )


def passing_run() -> DrillRun:
    return make_run(STARTED, drill("orders"), finding("copies_3_2_1", Status.WARN), databases=("orders",))


def settings(**overrides: Any) -> NotifySettings:
    fields: dict[str, Any] = {
        "webhook_env": "DRILL_WEBHOOK",
        "heartbeat_env": "DRILL_HEARTBEAT",
        "timeout": timedelta(seconds=0.5),
        "retries": 2,
    }
    fields.update(overrides)
    return NotifySettings(**fields)
