"""A run that SIGTERM or Ctrl-C stopped, in every report: never a pass, and each output says so."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import xmlschema
from rich.console import Console

from drill.model import ConfigIdentity, DrillRun, Finding, Interruption, Phase, Severity, Status
from drill.reports.console import print_run
from drill.reports.history_line import summary
from drill.reports.html import render_report
from drill.reports.index_view import index_of
from drill.reports.json_report import parse_json, render_json
from drill.reports.junit import render_junit
from drill.reports.run_schema import run_record_schema

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
JUNIT = xmlschema.XMLSchema(Path(__file__).with_name("junit.xsd"))
PASSED = Finding("freshness", Status.PASS, Severity.HIGH, "nas is fresh", database="orders", target="nas")
STOPPED = Interruption("SIGTERM", Phase.POSTURE)


def run(interrupted: Interruption | None = STOPPED) -> DrillRun:
    return DrillRun(
        "20261130T030000Z-0000abcd",
        "check",
        NOW,
        NOW,
        ConfigIdentity("drill.toml", "0" * 64),
        "0.1.0",
        (PASSED,),
        interrupted=interrupted,
    )


def test_an_interrupted_run_whose_findings_all_passed_is_an_error() -> None:
    assert run().status is Status.ERROR
    assert run(None).status is Status.PASS
    failing = replace(run(), findings=(replace(PASSED, status=Status.FAIL),))
    assert failing.status is Status.FAIL  # a fail still outranks


def test_the_record_says_so_validates_and_reads_back() -> None:
    text = render_json(run())
    record = json.loads(text)

    assert record["interrupted"] == {"signal": "SIGTERM", "during": "posture"}
    assert record["status"] == "error"
    jsonschema.Draft202012Validator(run_record_schema()).validate(record)
    assert parse_json(text).interrupted == STOPPED
    assert "interrupted" not in json.loads(render_json(run(None)))  # older records read the same


def test_the_history_line_and_the_index_name_the_signal() -> None:
    line = summary(run())

    assert line["interrupted"] == "SIGTERM" and line["status"] == "error"
    assert "interrupted" not in summary(run(None))
    [row] = index_of([line], generated_at=NOW, has_report=lambda _: True).runs
    assert row.interrupted == "SIGTERM"


def test_the_report_the_console_and_junit_say_so() -> None:
    html = render_report(run())
    console = Console(width=200, record=True, color_system=None)
    print_run(run(), console)
    junit = render_junit(run())

    described = STOPPED.describe()
    assert described.startswith("Interrupted by SIGTERM during the posture checks")
    assert 'id="interrupted"' in html and described in html
    assert described in console.export_text()
    JUNIT.validate(junit)
    assert 'name="drill.run"' in junit and 'name="interrupted"' in junit and described in junit
    assert 'tests="2" failures="1"' in junit
