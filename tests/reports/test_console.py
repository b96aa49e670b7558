"""The console table: one row per finding that is not a pass, one row per check for the passes."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from drill.model import ConfigIdentity, DrillRun, Finding, Severity, Status
from drill.reports.console import print_run

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def printed(*findings: Finding) -> str:
    run = DrillRun(
        "20261130T030000Z-0000abcd", "check", NOW, NOW, ConfigIdentity("c", "0" * 64), "0.1.0", findings
    )
    console = Console(width=200, record=True, color_system=None)
    print_run(run, console)
    return console.export_text()


def passed(target: str) -> Finding:
    return Finding(
        "freshness", Status.PASS, Severity.HIGH, f"{target} is fresh", database="orders", target=target
    )


def test_passes_of_one_check_share_a_row_and_everything_else_has_its_own() -> None:
    text = printed(
        *(passed(f"copy{number}") for number in range(8)),
        Finding("immutability", Status.FAIL, Severity.HIGH, "vault is not immutable", target="vault"),
        Finding("immutability", Status.WARN, Severity.HIGH, "nas is unproven", target="nas"),
    )
    rows = [line for line in text.splitlines() if "│" in line]
    assert sum("PASS" in row for row in rows) == 1
    assert "8 subjects" in text and "and 3 more" in text
    assert "vault is not immutable" in text and "nas is unproven" in text
    assert text.index("FAIL") < text.index("WARN") < text.index("PASS")


def test_a_single_pass_keeps_its_own_message() -> None:
    text = printed(passed("vault"))
    assert "orders / vault" in text and "vault is fresh" in text
