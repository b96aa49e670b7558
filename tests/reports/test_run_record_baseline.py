"""The run record (and the run's report) names the baseline a run compared with, and reads it back;
older records have none."""

from __future__ import annotations

import html
import json
from dataclasses import replace

import jsonschema

from drill.model import BaselineIdentity
from drill.reports.html import render_report
from drill.reports.json_report import parse_json, render_json
from drill.reports.run_schema import run_record_schema
from tests.reports.runs import at, make_run


def _validate(text: str) -> None:
    jsonschema.Draft202012Validator(run_record_schema(), format_checker=jsonschema.FormatChecker()).validate(
        json.loads(text)
    )


def test_the_approved_baseline_is_recorded_and_read_back() -> None:
    identity = BaselineIdentity("/r/baseline.json", "ab" * 32, "alice", at(days=-3))
    run = replace(make_run(at()), baseline=identity)
    text = render_json(run)
    _validate(text)
    assert json.loads(text)["baseline"]["sha256"] == "ab" * 32
    assert parse_json(text).baseline == identity


def test_a_missing_or_unusable_baseline_is_recorded_with_its_problem() -> None:
    for identity in (
        BaselineIdentity("/r/baseline.json", problem="missing"),
        BaselineIdentity("/r/baseline.json", "cd" * 32, problem="it is not JSON"),
    ):
        text = render_json(replace(make_run(at()), baseline=identity))
        _validate(text)
        assert parse_json(text).baseline == identity


def test_a_record_without_a_baseline_reads_as_none() -> None:
    text = render_json(make_run(at()))
    assert "baseline" not in json.loads(text)
    assert parse_json(text).baseline is None


def test_the_run_report_names_the_baseline_it_compared_with() -> None:
    identity = BaselineIdentity("/r/baseline.json", "ab" * 32, "alice", at(days=-3))
    page = html.unescape(render_report(replace(make_run(at()), baseline=identity)))
    assert "Approved baseline" in page and "by alice" in page and "ab" * 32 in page
    missing = html.unescape(
        render_report(replace(make_run(at()), baseline=BaselineIdentity("/r/b.json", problem="missing")))
    )
    assert "drift from an approved configuration was not monitored" in missing
    assert "Approved baseline" not in html.unescape(render_report(make_run(at())))
