"""Drift from an approved baseline, end to end: moto over HTTP with IAM enforced, the baseline
approved by drill's own collection, the estate then changed outside drill (with the admin's keys),
and the drift check judging it as ``drill check`` does."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drill.baseline.compare import Change
from drill.checks.drift import DriftEvidence
from drill.model import Status
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
    assert drifted(run) == []
    assert {finding.subject for finding in run.findings} == {"locked", "vault", "orders", "ci"}
    assert run.baseline is not None and run.baseline.approved_by == "alice" and run.baseline.sha256


def test_a_shortened_lock_is_one_failed_finding(estate: DriftEstate) -> None:
    estate.approve()
    estate.change(lambda: estate.lock("COMPLIANCE", 7))
    [finding] = drifted(estate.drift())
    assert (finding.status, finding.target) == (Status.FAIL, "locked")
    assert "default lock days weakened from 30 to 7" in finding.message


def test_a_lifecycle_rule_added_is_one_failed_finding(estate: DriftEstate) -> None:
    estate.approve()
    estate.change(lambda: estate.lifecycle(expiring("purge", 14)))
    [finding] = drifted(estate.drift())
    assert (finding.status, finding.target) == (Status.FAIL, "vault")
    assert "lifecycle rule 'purge' was added" in finding.message and "after 14 days" in finding.message


def test_an_agent_granted_delete_is_one_failed_finding_naming_the_grant(estate: DriftEstate) -> None:
    estate.approve()
    estate.change(lambda: estate.grant("ci", "s3:DeleteObjectVersion"))
    run = estate.drift()
    # The grant reaches every bucket; the locked one is judged too, so each target says so once.
    found = drifted(run)
    assert {finding.target for finding in found} == {"vault", "locked"}
    for finding in found:
        assert finding.status is Status.FAIL and finding.agent is None
        assert "powers of agent ci" in finding.message and "gained s3:DeleteObjectVersion" in finding.message
        assert "inline policy 'ci-granted'" in finding.message


def test_a_dropped_target_is_one_failed_finding(estate: DriftEstate) -> None:
    estate.approve()
    estate.write_config(("vault",))
    [finding] = drifted(estate.drift())
    assert (finding.status, finding.target) == (Status.FAIL, "locked")
    assert "dropped from the config" in finding.message


def test_strengthening_warns_to_approve_again_and_never_fails(estate: DriftEstate) -> None:
    estate.change(lambda: estate.lifecycle(expiring("purge", 14)))
    estate.approve()
    estate.change(lambda: estate.lock("COMPLIANCE", 90))
    estate.change(estate.lifecycle)
    found = drifted(estate.drift())
    assert sorted((finding.target, finding.status) for finding in found) == [
        ("locked", Status.WARN),
        ("vault", Status.WARN),
    ]
    changes = {
        finding.evidence.item: finding.evidence
        for finding in found
        if isinstance(finding.evidence, DriftEvidence)
    }
    assert changes["default lock days"].change is Change.STRONGER
    assert (changes["default lock days"].approved, changes["default lock days"].today) == ("30", "90")
    assert changes["lifecycle rule 'purge'"].change is Change.STRONGER
    assert all("approve again" in finding.message for finding in found)


def test_a_tampered_baseline_file_is_an_error_with_its_reason(estate: DriftEstate) -> None:
    path = estate.approve()
    document = json.loads(path.read_text())
    document["baseline"]["targets"][0]["settings"][3]["value"] = 1  # a lock "approved" shorter
    path.write_text(json.dumps(document))
    [finding] = estate.drift().findings
    assert finding.status is Status.ERROR
    assert "does not match the SHA-256 it records" in finding.message and str(path) in finding.message


def test_without_a_baseline_drift_is_noted_once_never_failed(estate: DriftEstate) -> None:
    run = estate.drift()
    [finding] = run.findings
    assert finding.status is Status.SKIPPED and "drill baseline approve" in finding.message
    assert run.baseline is not None and run.baseline.problem == "missing"


def _drill(estate: DriftEstate, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drill", "baseline", *arguments, "-c", str(estate.config)],
        cwd=estate.directory,
        env={"PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true", **estate.environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_baseline_commands_approve_show_and_diff(estate: DriftEstate) -> None:
    shown = _drill(estate, "show")
    assert shown.returncode == 0 and "No approved baseline" in shown.stdout

    approved = _drill(estate, "approve", "--by", "alice@example.com")
    assert approved.returncode == 0, approved.stderr
    assert "Approved by alice@example.com" in approved.stdout
    path = estate.directory / "reports" / "baseline.json"
    assert path.is_file() and not list(path.parent.glob(".baseline.json.*"))  # written atomically

    shown = _drill(estate, "show")
    assert shown.returncode == 0, shown.stderr
    assert "by alice@example.com" in shown.stdout and "default lock days: 30" in shown.stdout

    clean = _drill(estate, "diff")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    estate.change(lambda: estate.lock("COMPLIANCE", 90))
    stronger = _drill(estate, "diff")
    assert stronger.returncode == 0 and "WARN" in stronger.stdout  # a warning needs no page

    estate.change(lambda: estate.lock("COMPLIANCE", 7))
    weaker = _drill(estate, "diff")
    assert weaker.returncode == 3 and "weakened from 30 to 7" in weaker.stdout
    assert not (estate.directory / "reports" / "runs").exists()  # diff reads, records nothing

    path.write_text(path.read_text().replace('"alice@example.com"', '"mallory"'))
    tampered = _drill(estate, "show")
    assert tampered.returncode == 3 and "does not match the SHA-256" in tampered.stderr
    everything = approved.stdout + approved.stderr + shown.stdout + weaker.stdout
    assert estate.environ["DRILL_SECRET"] not in everything and estate.environ["CI_SECRET"] not in everything
