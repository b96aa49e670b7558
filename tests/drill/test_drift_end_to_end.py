"""Drift from an approved baseline, end to end: moto over HTTP with IAM enforced, the baseline
approved by drill's own collection, the estate then changed outside drill, and the drift check
judging it as ``drill check`` does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _AUTH_OFF, _post
from tests.drift_estate import DriftEstate, drifted, expiring


@pytest.fixture
def estate(s3_endpoint: str, tmp_path: Path) -> Iterator[DriftEstate]:
    def enforce(on: bool) -> None:
        _post(f"{s3_endpoint}/moto-api/reset-auth", "0" if on else _AUTH_OFF)

    yield DriftEstate(s3_endpoint, tmp_path, enforce)
    enforce(False)


def test_an_unchanged_estate_matches_its_baseline(estate: DriftEstate) -> None:
    estate.approve()
    run = estate.drift()
    for finding in run.findings:
        print(finding.status, finding.subject, finding.message)
    assert drifted(run) == []


def test_scratch(estate: DriftEstate) -> None:
    path = estate.approve()
    print(path.read_text())
    estate.change(lambda: estate.lock("COMPLIANCE", 7))
    estate.change(lambda: estate.lifecycle(expiring("purge", 14)))
    estate.change(lambda: estate.grant("ci", "s3:DeleteObjectVersion"))
    estate.write_config(("vault",))
    for finding in estate.drift().findings:
        print(finding.status, finding.subject, finding.message)
