"""The history line of a run: its verdict, its failures and each database's drill in brief, and never a secret its evidence quoted."""

from __future__ import annotations

from pathlib import Path

from drill import history
from drill.model import Finding, Severity, Status
from drill.reports import history_line
from tests.drill.history_runs import DSN, SECRET, finding, integrity, restore, run
from tests.reports.runs import recorded

# The summary line.


def test_summary_records_the_verdict_and_each_drill_in_brief(tmp_path: Path) -> None:
    the_run = run(
        "r1",
        1,
        restore(),
        integrity({"public.orders": 100, "public.lines": 400}, Status.WARN),  # stale data: a warning
        restore(database="billing"),
        finding("integrity", Status.ERROR, "billing"),  # could not verify: not a pass
        finding("freshness", Status.FAIL, "orders"),
        finding("immutability", Status.PASS, None),
    )

    line = history_line.summary(the_run)

    assert line["schema"] == "drill.history/v1"
    assert (line["run_id"], line["command"], line["status"]) == ("r1", "run", "fail")
    assert line["started_at"] == "2026-11-01T03:00:00+00:00"
    assert line["duration_seconds"] == 301.235
    assert line["config_sha256"] == "ab" * 32
    assert line["counts"] == {"pass": 3, "warn": 1, "fail": 1, "error": 1, "skipped": 0}
    assert line["failing"] == [
        {"check": "integrity", "status": "error", "database": "billing", "target": None, "agent": None},
        {"check": "freshness", "status": "fail", "database": "orders", "target": None, "agent": None},
    ]
    assert line["drills"]["orders"] == {
        "passed": True,
        "snapshot": "orders/orders-1.dump",
        "snapshot_size": 4096,
        "source_target": "vault",
        "download_seconds": 1.5,
        "server_wait_seconds": 0.25,
        "restore_seconds": 12.25,
        "verify_seconds": 2.0,
        "total_seconds": 16.0,
        "rto_seconds": 3600.0,
        "snapshot_age_seconds": 7200,
        "table_rows": {"public.orders": 100, "public.lines": 400},
        "total_rows": 500,
        "data_age_seconds": 5400,
    }
    assert line["drills"]["billing"]["passed"] is False
    assert set(line["drills"]) == {"orders", "billing"}  # posture findings are not drills

    history.append(tmp_path, line)
    assert [entry["run_id"] for entry in history.entries(tmp_path)] == ["r1"]
    assert history.last_passing_drill(tmp_path, "orders") == the_run.finished_at
    assert history.last_passing_drill(tmp_path, "billing") is None


def test_summary_never_carries_secret_values(tmp_path: Path) -> None:
    leaky = Finding(
        check="restore",
        status=Status.FAIL,
        severity=Severity.CRITICAL,
        message=f"Restore drill failed at restore: could not connect to {DSN}",
        database="orders",
        evidence=recorded(
            "restore",
            {
                "snapshot": "orders/orders-1.dump",
                "source_target": "vault",
                "dsn": DSN,
                "password": SECRET,
                "environment": {"PGPASSWORD": SECRET, "AWS_SECRET_ACCESS_KEY": SECRET},
                "failure": f"psql: error: password authentication failed ({SECRET})",
            },
        ),
        remediation=f"Try PGPASSWORD={SECRET} psql {DSN}",
    )
    agent = Finding(
        check="trust_separation",
        status=Status.FAIL,
        severity=Severity.CRITICAL,
        message=f"Agent ci holds key AKIA... with secret {SECRET} that can delete backups",
        target="vault",
        agent="ci",
        evidence=recorded("trust_separation", {"secret_access_key": SECRET, "session_token": SECRET}),
    )
    integrity_leak = Finding(
        check="integrity",
        status=Status.PASS,
        severity=Severity.HIGH,
        message="ok",
        database="orders",
        evidence=recorded(
            "integrity",
            {"table_rows": {"public.orders": 3}, "total_rows": 3, "problems": [f"query failed on {DSN}"]},
        ),
    )
    the_run = run("r1", 1, leaky, agent, integrity_leak)

    line = history_line.summary(the_run)
    history.append(tmp_path, line)

    written = (tmp_path / history.HISTORY_FILE).read_text(encoding="utf-8")
    assert SECRET not in written
    assert "db.internal" not in written  # not even the DSN's host
    assert "PGPASSWORD" not in written
    # What it does keep is the judgement and the whom.
    assert line["failing"] == [
        {"check": "restore", "status": "fail", "database": "orders", "target": None, "agent": None},
        {"check": "trust_separation", "status": "fail", "database": None, "target": "vault", "agent": "ci"},
    ]
    assert line["drills"]["orders"]["passed"] is False
    assert line["drills"]["orders"]["table_rows"] == {"public.orders": 3}
