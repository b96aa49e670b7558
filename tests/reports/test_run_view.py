"""The report's view of a run: findings grouped by database, worst first, scorecard and drill read
from their findings' evidence. Evidence here has the shape the checks record (see the end-to-end
test for the same pages built from real runs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from drill.model import (
    CheckInfo,
    ConfigIdentity,
    Coverage,
    CoveredDatabase,
    DrillRun,
    Finding,
    Phase,
    Scope,
    Severity,
    Status,
)
from drill.reports.drill_view import MAX_TABLES
from drill.reports.run_view import report_view
from tests.reports.runs import recorded

STARTED = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def finding(check: str, status: Status, severity: Severity = Severity.HIGH, **fields: Any) -> Finding:
    if "evidence" in fields:
        fields["evidence"] = recorded(check, fields["evidence"])
    return Finding(check=check, status=status, severity=severity, message=f"{check} {status.value}", **fields)


def run(*findings: Finding, coverage: Coverage | None = None) -> DrillRun:
    return DrillRun(
        run_id="20261130T030000Z-0000abcd",
        command="run",
        started_at=STARTED,
        finished_at=STARTED + timedelta(seconds=75),
        config=ConfigIdentity("/etc/drill/drill.toml", "ab" * 32),
        drill_version="0.1.0",
        findings=findings,
        checks=(
            CheckInfo(
                "restore",
                "The newest snapshot restores",
                Scope.RESTORE,
                Phase.RESTORE,
                Severity.CRITICAL,
                ("ISO 27001 A.8.13",),
            ),
        ),
        coverage=coverage
        or Coverage(
            databases=(
                CoveredDatabase("orders", "prod", ("vault", "shared")),
                CoveredDatabase("billing", "prod", ("shared",)),
            ),
            targets=("vault", "shared", "unused"),
            agents=("deployer",),
        ),
    )


SCORECARD = {
    "score": {"copies": 1, "media": 1, "offsite": 1, "immutable": 0},
    "required": {"copies": 3, "media": 2, "offsite": 1, "immutable": 1},
    "copies": [
        {
            "target": "vault",
            "site": "aws:1",
            "media": "s3",
            "location": "s3://vault",
            "snapshot": "orders/orders-2.dump",
            "size": 4096,
            "fresh": True,
            "consistent": True,
            "immutable": None,
            "offsite": True,
            "counted": True,
            "why": "counted",
        },
        {
            "target": "shared",
            "site": "office",
            "media": "disk",
            "location": "file:///nas",
            "snapshot": None,
            "size": None,
            "fresh": False,
            "consistent": False,
            "immutable": False,
            "offsite": True,
            "counted": False,
            "why": "holds no snapshot",
        },
    ],
}
RESTORE = {
    "source_target": "vault",
    "snapshot": "orders/orders-2.dump",
    "snapshot_size": 3 * 1024 * 1024,
    "snapshot_created_at": "2026-11-30T01:00:00+00:00",
    "snapshot_age_seconds": 7200,
    "dump_format": "custom",
    "download_seconds": 1.5,
    "server_wait_seconds": 0.0,
    "restore_seconds": 12.25,
    "verify_seconds": 2.0,
    "total_seconds": 16.0,
    "rto_seconds": 600.0,
    "failed_stage": None,
}
INTEGRITY = {
    "table_rows": {"public.orders": 3000, "public.customers": 500},
    "total_rows": 3500,
    "previous_total_rows": 3400,
    "queries": [{"name": "orders exist", "expect": ">= 1", "value": 3000.0, "error": None}],
    "recovery_point": "2026-11-30T00:55:00+00:00",
    "data_age_seconds": 7500,
    "problems": [],
}


def test_findings_are_grouped_under_their_database_and_shared_targets_appear_in_each() -> None:
    view = report_view(
        run(
            finding("freshness", Status.PASS, database="orders", target="vault"),
            finding("immutability", Status.FAIL, target="shared"),
            finding("freshness", Status.PASS, database="billing", target="shared"),
            finding("immutability", Status.PASS, target="unused"),
            finding("credential_exposure", Status.FAIL, agent="deployer"),
        )
    )
    orders, billing = view.databases
    assert [(f.check, f.subject) for f in orders.findings] == [
        ("immutability", "shared"),
        ("freshness", "orders / vault"),
    ]
    assert [(f.check, f.subject) for f in billing.findings] == [
        ("immutability", "shared"),
        ("freshness", "billing / shared"),
    ]
    assert orders.status is Status.FAIL and billing.status is Status.FAIL
    # What belongs to no database of the run: an agent's exposure, a target nobody uses.
    assert view.other is not None
    assert [f.check for f in view.other.findings] == ["credential_exposure", "immutability"]


def test_a_database_with_only_passes_is_shown_passing() -> None:
    view = report_view(run(finding("freshness", Status.PASS, database="orders", target="vault")))
    orders, billing = view.databases
    assert orders.status is Status.PASS
    assert billing.status is Status.SKIPPED and billing.findings == ()  # nothing judged it
    assert view.other is None


def test_failures_come_first_worst_severity_first_and_link_to_a_rendered_finding() -> None:
    view = report_view(
        run(
            finding("freshness", Status.PASS, database="orders", target="vault"),
            finding("freshness", Status.WARN, database="orders", target="shared"),
            finding("snapshot_sanity", Status.ERROR, Severity.HIGH, database="orders", target="vault"),
            finding("restore", Status.FAIL, Severity.HIGH, database="orders"),
            finding("integrity", Status.FAIL, Severity.CRITICAL, database="orders"),
        )
    )
    assert [(link.check, link.status) for link in view.failures] == [
        ("integrity", Status.FAIL),
        ("restore", Status.FAIL),
        ("snapshot_sanity", Status.ERROR),
    ]
    anchors = {f.anchor for section in view.databases for f in section.findings}
    assert all(link.anchor in anchors for link in view.failures)
    [orders, _] = view.databases
    assert [f.status for f in orders.findings] == [
        Status.FAIL,
        Status.FAIL,
        Status.ERROR,
        Status.WARN,
        Status.PASS,
    ]


def test_anchors_are_unique_even_when_a_finding_appears_in_two_databases() -> None:
    view = report_view(run(finding("immutability", Status.FAIL, target="shared")))
    anchors = [f.anchor for section in view.databases for f in section.findings]
    assert len(anchors) == 2 and len(set(anchors)) == 2


def test_nothing_failing_means_no_failure_links() -> None:
    view = report_view(run(finding("freshness", Status.WARN, database="orders", target="vault")))
    assert view.failures == ()
    assert view.status is Status.WARN


def test_the_scorecard_reads_the_copies_and_the_zero_from_copies_3_2_1() -> None:
    view = report_view(
        run(
            finding("copies_3_2_1", Status.FAIL, database="orders", evidence=SCORECARD),
            finding("copies_3_2_1", Status.PASS, database="orders", evidence={"age_seconds": 3600}),
        )
    )
    card = view.databases[0].scorecard
    assert card is not None
    assert [(r.name, r.have, r.need, r.met) for r in card.requirements] == [
        ("copies", 1, 3, False),
        ("media", 1, 2, False),
        ("offsite", 1, 1, True),
        ("immutable", 0, 1, False),
    ]
    vault, shared = card.copies
    assert vault.counted and vault.present and vault.immutable is None  # unknown, not "no"
    assert not shared.present and shared.immutable is False and shared.why == "holds no snapshot"
    assert card.zero_status is Status.PASS
    assert view.databases[1].scorecard is None  # billing was not judged


def test_the_drill_view_reads_timings_rows_and_queries() -> None:
    view = report_view(
        run(
            finding("restore", Status.PASS, database="orders", evidence=RESTORE),
            finding("integrity", Status.PASS, database="orders", evidence=INTEGRITY),
        )
    )
    drill = view.databases[0].drill
    assert drill is not None
    assert drill.snapshot_size == "3.0 MiB" and drill.snapshot_age == "2h"
    assert [timing.text for timing in drill.timings] == ["1.5s", "0.0s", "12.2s", "2.0s"]
    assert drill.total.text == "16.0s" and drill.rto is not None and drill.rto.text == "10m"
    assert drill.within_rto is True
    assert [(t.table, t.rows) for t in drill.tables] == [("public.orders", 3000), ("public.customers", 500)]
    assert drill.total_rows == "3,500" and drill.previous_total_rows == "3,400"
    assert drill.recovery_point == "2026-11-30 00:55 UTC" and drill.data_age == "2h 5m"
    assert [(q.name, q.value) for q in drill.queries] == [("orders exist", "3,000")]
    controls = {f.check: f.controls for f in view.databases[0].findings}
    assert controls == {"restore": ("ISO 27001 A.8.13",), "integrity": ()}  # only restore's info was recorded


def test_a_drill_over_its_rto_is_over_and_one_that_stopped_is_neither() -> None:
    over = report_view(
        run(finding("restore", Status.FAIL, database="orders", evidence={**RESTORE, "total_seconds": 900.0}))
    )
    assert over.databases[0].drill is not None and over.databases[0].drill.within_rto is False
    stopped = report_view(
        run(
            finding(
                "restore", Status.FAIL, database="orders", evidence={**RESTORE, "failed_stage": "restore"}
            )
        )
    )
    assert stopped.databases[0].drill is not None and stopped.databases[0].drill.within_rto is None


def test_a_database_of_many_tables_lists_the_largest_and_says_how_many_are_left_out() -> None:
    tables = {f"public.t{number:04d}": number for number in range(MAX_TABLES + 30)}
    view = report_view(
        run(
            finding("restore", Status.PASS, database="orders", evidence=RESTORE),
            finding(
                "integrity", Status.PASS, database="orders", evidence={**INTEGRITY, "table_rows": tables}
            ),
        )
    )
    drill = view.databases[0].drill
    assert drill is not None
    assert len(drill.tables) == MAX_TABLES and drill.tables_omitted == 30
    assert drill.tables[0].rows == MAX_TABLES + 29


def test_trust_rows_are_the_agents_findings_on_the_databases_targets() -> None:
    view = report_view(
        run(
            finding("trust_separation", Status.FAIL, agent="deployer", target="vault"),
            finding("trust_separation", Status.WARN, agent="deployer", target="shared"),
        )
    )
    orders, billing = view.databases
    assert [(row.agent, row.target, row.status) for row in orders.trust] == [
        ("deployer", "vault", Status.FAIL),
        ("deployer", "shared", Status.WARN),
    ]
    assert [row.target for row in billing.trust] == ["shared"]
    assert orders.trust[0].anchor in {f.anchor for f in orders.findings}


def test_a_run_recorded_before_coverage_existed_puts_everything_in_one_section() -> None:
    view = report_view(
        run(finding("freshness", Status.FAIL, database="orders", target="vault"), coverage=Coverage())
    )
    assert view.databases == ()
    assert view.other is not None and view.other.findings[0].check == "freshness"
    assert view.failures[0].anchor == view.other.findings[0].anchor
