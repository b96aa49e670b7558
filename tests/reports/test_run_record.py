"""The run record as a published contract: records of the released drill still load with typed
evidence, the published JSON Schema is the one the evidence types give, and the docs name every kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from drill import evidence
from drill.checks.copies_3_2_1 import ScorecardEvidence
from drill.checks.restore import RestoreEvidence
from drill.model import Evidence, UnparsedEvidence
from drill.reports import history_line
from drill.reports.html import render_report
from drill.reports.json_report import parse_json, render_json
from drill.reports.run_schema import render, run_record_schema
from tests.reports.evidence_samples import every_kind

PROJECT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).with_name("fixtures")
# Written by drill 0.1.0's `drill demo`, whose evidence carries no kind: kept byte for byte.
RELEASED_RUN = FIXTURES / "run-0.1.0.json"
RELEASED_HISTORY = FIXTURES / "history-0.1.0.jsonl"
SCHEMA_FILE = PROJECT / "docs" / "run-record.schema.json"
REGENERATE = "python -m drill.reports.run_schema docs/run-record.schema.json"


def released() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RELEASED_RUN.read_text(encoding="utf-8"))
    return data


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(run_record_schema(), format_checker=jsonschema.FormatChecker())


def test_a_record_of_the_released_drill_loads_with_every_evidence_typed() -> None:
    run = parse_json(RELEASED_RUN.read_bytes())
    assert len(run.findings) == 37
    kept_raw = [finding.check for finding in run.findings if isinstance(finding.evidence, UnparsedEvidence)]
    assert kept_raw == []
    assert all(isinstance(finding.evidence, Evidence) for finding in run.findings)
    [shop] = [f.evidence for f in run.findings if f.check == "restore" and f.database == "shop"]
    assert isinstance(shop, RestoreEvidence)
    assert (shop.total_seconds, shop.rto_seconds, shop.dump_format) == (0.766, 600.0, "custom")
    [card] = [f.evidence for f in run.findings if f.check == "copies_3_2_1" and f.status.value == "fail"]
    assert isinstance(card, ScorecardEvidence)
    assert (card.score.copies, card.required.copies, len(card.copies)) == (2, 3, 2)


def test_the_history_line_of_a_released_record_is_the_one_the_released_drill_wrote() -> None:
    run = parse_json(RELEASED_RUN.read_bytes())
    [line] = RELEASED_HISTORY.read_text(encoding="utf-8").splitlines()
    assert history_line.summary(run) == json.loads(line)


def test_a_released_record_rewritten_keeps_every_key_and_value_and_gains_kinds() -> None:
    rewritten = json.loads(render_json(parse_json(RELEASED_RUN.read_bytes())))
    for before, after in zip(released()["findings"], rewritten["findings"], strict=True):
        # A field a 0.1.0 record leaves out when it is empty is written, empty; fields added since
        # (with their defaults, also inside nested rows) are written beside the kept ones.
        assert _kept(before["evidence"], after["evidence"])
        assert after["evidence"]["kind"].split(".")[0] in (before["check"], "could_not_verify")


def _kept(before: Any, after: Any) -> bool:
    """Whether every key and value of ``before`` is in ``after``, at every depth."""
    if isinstance(before, dict):
        return isinstance(after, dict) and all(_kept(value, after.get(key)) for key, value in before.items())
    if isinstance(before, list):
        return isinstance(after, list) and len(before) == len(after) and all(map(_kept, before, after))
    return bool(before == after)


def test_evidence_with_a_renamed_field_is_shown_raw_with_the_reason() -> None:
    data = released()
    restore = next(finding for finding in data["findings"] if finding["check"] == "restore")
    restore["evidence"]["total_time"] = restore["evidence"].pop("total_seconds")
    run = parse_json(json.dumps(data))
    kept = next(finding.evidence for finding in run.findings if finding.check == "restore")
    assert isinstance(kept, UnparsedEvidence) and kept.raw == restore["evidence"]
    html = render_report(run)
    assert "Raw evidence:" in html and "total_time" in html
    assert json.loads(render_json(run))["findings"][data["findings"].index(restore)] == restore


def test_the_published_schema_is_the_one_the_evidence_types_give() -> None:
    published = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
    assert published == render(), f"{SCHEMA_FILE.relative_to(PROJECT)} is stale; regenerate it: {REGENERATE}"


def test_the_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(run_record_schema())


def test_records_old_and_new_validate_against_the_schema() -> None:
    check = validator()
    check.validate(released())
    check.validate(json.loads(render_json(parse_json(RELEASED_RUN.read_bytes()))))


@pytest.mark.parametrize(("check", "recorded"), [pytest.param(*s, id=s[1].kind) for s in every_kind()])
def test_every_kind_as_written_validates_against_its_definition(check: str, recorded: Evidence) -> None:
    schema = run_record_schema()
    definition = {**schema["$defs"][f"evidence.{recorded.kind}"], "$defs": schema["$defs"]}
    jsonschema.Draft202012Validator(definition).validate(json.loads(json.dumps(evidence.to_json(recorded))))


def test_the_docs_page_names_every_kind_with_its_version_and_links_the_schema() -> None:
    page = (PROJECT / "docs" / "run-record.md").read_text(encoding="utf-8")
    for kind, kind_type in evidence.catalogue().by_kind.items():
        assert f"| `{kind}` | {kind_type.version} |" in page, f"docs/run-record.md does not list {kind}"
    assert "(run-record.schema.json)" in page and REGENERATE in page
