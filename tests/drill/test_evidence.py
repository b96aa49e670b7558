"""Evidence as JSON: every type the checks declare survives the trip, and what maps to no type is kept raw."""

from __future__ import annotations

import importlib
import json
import pkgutil
from typing import Any

import pytest

from drill import evidence
from drill.checks.freshness import FreshnessEvidence
from drill.checks.restore import RestoreEvidence
from drill.model import CouldNotVerify, Evidence, UnparsedEvidence
from drill.registry import COMMON_EVIDENCE, discover
from tests.reports.evidence_samples import MOMENT, every_kind

KINDS = evidence.catalogue().by_kind


@pytest.mark.parametrize(
    ("check", "recorded"), [pytest.param(*sample, id=sample[1].kind) for sample in every_kind()]
)
def test_every_evidence_type_round_trips_through_json(check: str, recorded: Evidence) -> None:
    written = json.loads(json.dumps(evidence.to_json(recorded)))
    assert written["kind"] == recorded.kind and written["version"] == recorded.version
    assert evidence.from_json(written, check) == recorded


def test_the_round_trip_covers_every_kind_the_checks_declare() -> None:
    declared = {kind_type for spec in discover() for kind_type in spec.evidence}
    assert declared | set(COMMON_EVIDENCE) == set(KINDS.values())
    assert len(declared) >= 17


def test_every_evidence_type_a_check_module_defines_is_declared_by_a_check() -> None:
    package = importlib.import_module("drill.checks")
    declared = {kind_type for spec in discover() for kind_type in spec.evidence}
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"drill.checks.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Evidence)
                and value.__module__ == module.__name__
            ):
                assert value in declared, f"{value.__name__} in {module.__name__} is declared by no check"


def test_each_kind_is_named_by_its_check() -> None:
    for spec in discover():
        for kind_type in spec.evidence:
            assert kind_type.kind == spec.id or kind_type.kind.startswith(spec.id + "."), kind_type.kind


def test_nothing_recorded_is_an_empty_object_both_ways() -> None:
    assert evidence.to_json(None) == {}
    assert evidence.from_json({}, "freshness") is None
    assert evidence.from_json(None, "freshness") is None


def test_field_names_are_the_keys_and_kind_and_version_lead() -> None:
    recorded = FreshnessEvidence("orders/a.dump", MOMENT, 60, 3600, 2)
    assert evidence.to_json(recorded) == {
        "kind": "freshness",
        "version": 1,
        "snapshot": "orders/a.dump",
        "created_at": "2026-11-30T03:00:00+00:00",
        "age_seconds": 60,
        "max_age_seconds": 3600,
        "snapshots": 2,
    }


def test_evidence_without_a_kind_is_read_into_the_first_type_of_its_check_it_fits() -> None:
    assert evidence.from_json({"pattern": "orders/*.dump", "snapshots": 0}, "freshness") == (
        evidence.catalogue().by_kind["freshness.no_snapshot"]("orders/*.dump", 0)
    )
    assert evidence.from_json({"reason": "s3:ListBucket denied."}, "freshness") == CouldNotVerify(
        "s3:ListBucket denied."
    )


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"kind": "freshness.v2_shape", "version": 1, "snapshot": "a"}, "unknown to this drill"),
        ({"kind": "freshness", "version": 2, "snapshot": "a"}, "version 2"),
        (
            {
                "kind": "freshness",
                "version": 1,
                "snapshot_key": "a",
                "created_at": "2026-11-30T03:00:00+00:00",
            },
            "unknown field 'snapshot_key'",
        ),
        (
            {
                "kind": "freshness",
                "version": 1,
                "snapshot": "a",
                "created_at": "yesterday",
                "age_seconds": 1,
                "max_age_seconds": 2,
                "snapshots": 3,
            },
            "created_at: expected an ISO 8601 time",
        ),
        ({"snapshot": "a", "age": 3}, "fits no type of its check"),
    ],
)
def test_evidence_that_maps_to_no_type_is_kept_exactly_as_recorded(
    data: dict[str, Any], problem: str
) -> None:
    read = evidence.from_json(data, "freshness")
    assert isinstance(read, UnparsedEvidence)
    assert problem in read.problem
    assert read.raw == data
    assert evidence.to_json(read) == data  # written back unchanged


def test_a_value_of_the_wrong_type_deep_inside_names_where() -> None:
    written = evidence.to_json(
        RestoreEvidence(*([None] * 7), 1.0, 0.0, 0.0, 0.0, 1.0, None, None, None, None, None)
    )
    written["total_seconds"] = True
    read = evidence.from_json(written, "restore")
    assert isinstance(read, UnparsedEvidence) and "total_seconds: expected a number" in read.problem


def test_evidence_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(evidence.EvidenceShapeError):
        evidence.from_json(["a", "b"], "freshness")


def test_an_integral_number_reads_as_an_integer_as_json_schema_has_it() -> None:
    read = evidence.from_json({"pattern": "p", "snapshots": 3.0}, "freshness")
    assert read == evidence.catalogue().by_kind["freshness.no_snapshot"]("p", 3)
