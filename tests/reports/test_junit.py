"""The JUnit report: valid against the junit-10 shape, counts that match, fail and error as failures, hostile text made safe."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import xmlschema

from drill.model import ConfigIdentity, DrillRun, Finding, Severity, Status, UnparsedEvidence
from drill.reports.junit import render_junit
from tests.reports.runs import recorded

SCHEMA = xmlschema.XMLSchema(Path(__file__).with_name("junit.xsd"))
STARTED = datetime(2026, 11, 1, 3, 0, 5, 250_000, tzinfo=UTC)


def finding(
    check: str = "freshness",
    status: Status = Status.PASS,
    database: str | None = "orders",
    target: str | None = "vault",
    message: str | None = None,
    **overrides: Any,
) -> Finding:
    if isinstance(overrides.get("evidence"), dict):
        overrides["evidence"] = recorded(check, overrides["evidence"])
    return Finding(
        check=check,
        status=status,
        severity=overrides.pop("severity", Severity.HIGH),
        message=message or f"{check} on {database}: {status.value}.",
        database=database,
        target=target,
        **overrides,
    )


def run_of(*findings: Finding, started_at: datetime = STARTED) -> DrillRun:
    return DrillRun(
        run_id="run-1",
        command="check",
        started_at=started_at,
        finished_at=started_at + timedelta(seconds=42.5),
        config=ConfigIdentity(path="drill.toml", sha256="0" * 64),
        drill_version="0.1.0",
        findings=findings,
    )


def parse(document: str) -> ElementTree.Element:
    # Our own output, not untrusted input: parsing it is the point of these tests.
    return ElementTree.fromstring(document.encode("UTF-8"))  # noqa: S314


def suites(document: str) -> dict[str, ElementTree.Element]:
    return {suite.attrib["name"]: suite for suite in parse(document).iter("testsuite")}


def only_case(document: str) -> ElementTree.Element:
    cases = list(parse(document).iter("testcase"))
    assert len(cases) == 1
    return cases[0]


def mixed_run() -> DrillRun:
    return run_of(
        finding("freshness", Status.PASS, database="orders"),
        finding("freshness", Status.FAIL, database="billing"),
        finding("freshness", Status.WARN, database="users"),
        finding("immutability", Status.ERROR, database=None),
        finding("immutability", Status.SKIPPED, database=None, target="cold"),
        finding("restore", Status.PASS, target=None, evidence={"total_seconds": 16.25}),
    )


# The schema itself: it accepts drill's output and is strict enough to reject what CI would choke on.


def test_mixed_run_is_valid_against_the_junit_schema() -> None:
    SCHEMA.validate(render_junit(mixed_run()))


def test_run_without_findings_is_a_valid_empty_document() -> None:
    document = render_junit(run_of())

    SCHEMA.validate(document)
    root = parse(document)
    assert root.tag == "testsuites"
    assert list(root) == []
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("0", "0", "0")


@pytest.mark.parametrize(
    ("description", "document"),
    [
        (
            "testcase without a name",
            '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase classname="c"/></testsuite></testsuites>',
        ),
        ("failure directly under testsuites", '<testsuites><failure message="m"/></testsuites>'),
        ("testsuite without counts", '<testsuites><testsuite name="s"/></testsuites>'),
        ("attribute junit-10 does not declare", '<testsuites skipped="1"/>'),
        (
            "timestamp with an offset",
            '<testsuites><testsuite name="s" tests="0" failures="0" errors="0" timestamp="2026-11-01T03:00:05+00:00"/></testsuites>',
        ),
        (
            "time in exponent notation",
            '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="t" time="1e-05"/></testsuite></testsuites>',
        ),
        ("negative count", '<testsuites tests="-1"/>'),
    ],
)
def test_schema_rejects_malformed_documents(description: str, document: str) -> None:
    assert not SCHEMA.is_valid(document), description


# Counts and structure.


def test_counts_match_per_suite_and_in_total() -> None:
    document = render_junit(mixed_run())
    root = parse(document)
    by_name = suites(document)

    assert list(by_name) == ["drill.freshness", "drill.immutability", "drill.restore"]
    counts = {
        name: (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped"))
        for name, suite in by_name.items()
    }
    assert counts == {
        "drill.freshness": ("3", "1", "0", "0"),
        "drill.immutability": ("2", "1", "0", "1"),
        "drill.restore": ("1", "0", "0", "0"),
    }
    assert (root.get("name"), root.get("tests"), root.get("failures"), root.get("errors")) == (
        "drill",
        "6",
        "2",
        "0",
    )
    assert sum(int(suite.attrib["skipped"]) for suite in by_name.values()) == 1
    assert root.get("time") == "42.500"


def test_suites_are_sorted_by_check_id_whatever_the_finding_order() -> None:
    document = render_junit(run_of(finding("restore"), finding("copies_3_2_1"), finding("freshness")))

    assert list(suites(document)) == ["drill.copies_3_2_1", "drill.freshness", "drill.restore"]


def test_testcase_is_named_by_subject_with_the_check_as_classname() -> None:
    case = only_case(render_junit(run_of(finding("freshness", agent="nightly"))))

    assert case.get("name") == "nightly / orders / vault"
    assert case.get("classname") == "drill.freshness"


def test_finding_without_subject_is_named_by_the_placeholder() -> None:
    case = only_case(render_junit(run_of(finding(database=None, target=None))))

    assert case.get("name") == "-"


def test_duplicate_subjects_get_unique_names_within_a_suite() -> None:
    document = render_junit(
        run_of(
            finding("copies_3_2_1", database="orders", target=None),
            finding("copies_3_2_1", database="orders", target=None),
            finding("copies_3_2_1", database="orders #2", target=None),
            finding("freshness", database="orders", target=None),
        )
    )

    copies = [case.get("name") for case in suites(document)["drill.copies_3_2_1"].iter("testcase")]
    assert copies == ["orders", "orders #2", "orders #2 #2"]
    assert [case.get("name") for case in suites(document)["drill.freshness"].iter("testcase")] == ["orders"]


def test_distinct_subjects_keep_their_names() -> None:
    document = render_junit(run_of(finding(database="orders"), finding(database="billing")))

    assert [case.get("name") for case in parse(document).iter("testcase")] == [
        "orders / vault",
        "billing / vault",
    ]


def test_timestamp_is_the_start_in_utc_without_offset_or_fraction() -> None:
    started = datetime(2026, 11, 1, 5, 0, 5, 999_000, tzinfo=timezone(timedelta(hours=2)))
    document = render_junit(run_of(finding(), started_at=started))

    assert suites(document)["drill.freshness"].get("timestamp") == "2026-11-01T03:00:05"
    SCHEMA.validate(document)


def test_restore_case_takes_its_time_from_the_measured_total() -> None:
    document = render_junit(run_of(finding("restore", evidence={"total_seconds": 16.25})))

    assert only_case(document).get("time") == "16.250"
    assert suites(document)["drill.restore"].get("time") == "16.250"


@pytest.mark.parametrize("total", [None, "16", True, float("nan"), float("inf"), -3.0])
def test_restore_case_without_a_usable_total_takes_zero(total: object) -> None:
    case = only_case(render_junit(run_of(finding("restore", evidence={"total_seconds": total}))))

    assert case.get("time") == "0.000"


def test_other_checks_take_zero_even_with_a_total_in_evidence() -> None:
    case = only_case(render_junit(run_of(finding("freshness", evidence={"total_seconds": 9.0}))))

    assert case.get("time") == "0.000"


# Each verdict's shape: fail and error are failures, skipped is skipped, pass and warn pass.


@pytest.mark.parametrize("status", [Status.FAIL, Status.ERROR])
def test_failing_verdict_becomes_a_failure_with_its_status_and_severity(status: Status) -> None:
    failing = finding(
        status=status,
        severity=Severity.CRITICAL,
        message="Newest snapshot is 3d old (limit 1d).",
        remediation="Find out why the backup job stopped.",
        evidence={"age_seconds": 259200},
    )
    case = only_case(render_junit(run_of(failing)))

    assert [child.tag for child in case] == ["failure"]
    failure = case[0]
    assert failure.get("message") == "Newest snapshot is 3d old (limit 1d)."
    assert failure.get("type") == f"{status.value}/critical"
    text = failure.text or ""
    assert "Newest snapshot is 3d old (limit 1d)." in text
    assert "Remediation: Find out why the backup job stopped." in text
    assert '"age_seconds": 259200' in text


@pytest.mark.parametrize("status", [Status.PASS, Status.WARN, Status.SKIPPED])
def test_non_failing_verdict_is_no_failure(status: Status) -> None:
    document = render_junit(run_of(finding(status=status)))

    assert parse(document).get("failures") == "0"
    assert only_case(document).find("failure") is None
    assert only_case(document).find("error") is None


def test_error_counts_as_failure_not_as_error() -> None:
    suite = suites(render_junit(run_of(finding(status=Status.ERROR))))["drill.freshness"]

    assert (suite.get("failures"), suite.get("errors")) == ("1", "0")


def test_warning_passes_with_its_message_in_system_out() -> None:
    case = only_case(render_junit(run_of(finding(status=Status.WARN, message="Only one copy is offsite."))))

    assert [child.tag for child in case] == ["system-out"]
    assert (case[0].text or "").startswith("WARN: Only one copy is offsite.")


def test_pass_passes_with_its_message_in_system_out() -> None:
    case = only_case(render_junit(run_of(finding(status=Status.PASS, message="Fresh."))))

    assert [child.tag for child in case] == ["system-out"]
    assert (case[0].text or "").startswith("PASS: Fresh.")


def test_skipped_verdict_is_skipped_with_its_reason() -> None:
    document = render_junit(run_of(finding(status=Status.SKIPPED, message="No restore phase in this run.")))
    case = only_case(document)

    assert [child.tag for child in case] == ["skipped"]
    assert case[0].get("message") == "No restore phase in this run."
    assert suites(document)["drill.freshness"].get("skipped") == "1"


@pytest.mark.parametrize("status", [Status.PASS, Status.WARN, Status.FAIL, Status.ERROR])
def test_non_skipped_verdict_is_not_skipped(status: Status) -> None:
    document = render_junit(run_of(finding(status=status)))

    assert only_case(document).find("skipped") is None
    assert suites(document)["drill.freshness"].get("skipped") == "0"


# Text: hostile names, evidence values JSON cannot hold natively, and no configuration leaking in.


HOSTILE = "<script>alert(1)</script> & \"quoted\" 'single' \x00nul \x1b[31mred\x1b[0m \udcff"


def test_hostile_text_is_escaped_and_stripped_of_characters_xml_cannot_hold() -> None:
    hostile = finding(
        status=Status.FAIL,
        database=HOSTILE,
        message=f"Bucket {HOSTILE} is not locked.",
        evidence={"bucket": HOSTILE},
    )
    document = render_junit(run_of(hostile))

    assert "<script>" not in document
    assert "\x00" not in document
    assert "\x1b" not in document
    SCHEMA.validate(document)
    case = only_case(document)
    safe = "<script>alert(1)</script> & \"quoted\" 'single' nul [31mred[0m "
    assert case.get("name") == f"{safe} / vault"
    assert case[0].get("message") == f"Bucket {safe} is not locked."
    assert safe in (case[0].text or "")


def test_hostile_check_id_and_warning_text_are_stripped_too() -> None:
    document = render_junit(run_of(finding("fresh\x01ness", Status.WARN, message="Odd\x0b tab\tnewline\n.")))
    case = only_case(document)

    assert case.get("classname") == "drill.freshness"
    assert case[0].text is not None
    assert case[0].text.startswith("WARN: Odd tab\tnewline\n.")


def test_ordinary_text_and_non_ascii_pass_through_unchanged() -> None:
    message = "Snapshot für Zürich is 2h old; tab\tand newline\nkept."
    case = only_case(render_junit(run_of(finding(status=Status.FAIL, message=message))))

    assert case[0].get("message") == message


def test_evidence_with_datetimes_enums_and_tuples_is_indented_json() -> None:
    evidence = {
        "snapshot_created_at": datetime(2026, 11, 1, 3, 0, tzinfo=UTC),
        "status": Status.FAIL,
        "keys": ("a.dump", "b.dump"),
        "retention": timedelta(days=1),
        "path": Path("/backups/orders"),
    }
    kept_raw = UnparsedEvidence(evidence, "values JSON cannot hold natively")
    case = only_case(render_junit(run_of(finding(status=Status.FAIL, evidence=kept_raw))))

    text = case[0].text or ""
    evidence_json = json.loads(text.split("Evidence:\n", 1)[1])
    assert evidence_json == {
        "keys": ["a.dump", "b.dump"],
        "path": "/backups/orders",
        "retention": 86400.0,
        "snapshot_created_at": "2026-11-01T03:00:00+00:00",
        "status": "fail",
    }
    assert '\n  "keys": [' in text


def test_finding_without_remediation_or_evidence_has_only_message_and_severity() -> None:
    case = only_case(render_junit(run_of(finding(status=Status.FAIL, message="Gone."))))

    assert case[0].text == "Gone.\nSeverity: high"


def test_configuration_is_not_in_the_report() -> None:
    document = render_junit(run_of(finding()))

    assert "drill.toml" not in document
    assert "0" * 64 not in document


def test_document_declares_utf8_and_parses() -> None:
    document = render_junit(mixed_run())

    assert document.startswith("<?xml version='1.0' encoding='UTF-8'?>\n<testsuites")
    assert parse(document).tag == "testsuites"


def test_run_with_fields_added_later_still_renders() -> None:
    # The model gains defaulted fields over time (check metadata and coverage already); the report reads
    # only the fields it needs, so one more must change nothing.
    @dataclass(frozen=True)
    class LaterRun(DrillRun):
        annotations: tuple[str, ...] = ("added after this report was written",)

    base = run_of(finding())
    later = LaterRun(
        run_id=base.run_id,
        command=base.command,
        started_at=base.started_at,
        finished_at=base.finished_at,
        config=base.config,
        drill_version=base.drill_version,
        findings=base.findings,
    )

    assert render_junit(later) == render_junit(base)
