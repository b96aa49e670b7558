"""The evidence pack's baseline section: the approved baseline file, who approved it and when, and
every drift seen in the period with when it was fixed or approved again."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from drill.baseline import codec
from drill.baseline.compare import Change
from drill.checks.drift import DriftEvidence, NoDriftEvidence
from drill.model import BaselineIdentity, DrillRun, Finding, Severity, Status
from drill.reports.pack import build_pack, verify_pack
from tests.drift_records import baseline, vault
from tests.reports.packs import BUILT, FOLDER, Q3, contents
from tests.reports.runs import make_run, publish_all

FIRST = "aa" * 32
SECOND = "bb" * 32


def _at(day: int) -> datetime:
    return datetime.fromisoformat(f"2026-07-{day:02d}T03:00:00+00:00")


def _drift(item: str, approved: str, today: str, sha256: str, status: Status = Status.FAIL) -> Finding:
    evidence = DriftEvidence(item, approved, today, Change.WEAKER, "", sha256, _at(1), "alice")
    return Finding(
        "drift", status, Severity.HIGH, f"Target vault: {item} weakened.", target="vault", evidence=evidence
    )


def _matches(sha256: str, by: str) -> Finding:
    evidence = NoDriftEvidence(10, (), sha256, _at(1), by)
    return Finding(
        "drift", Status.PASS, Severity.HIGH, "Target vault matches.", target="vault", evidence=evidence
    )


def _run(day: int, identity: BaselineIdentity, *findings: Finding) -> DrillRun:
    return replace(make_run(_at(day), *findings, command="check"), baseline=identity)


def test_the_pack_shows_the_baseline_and_each_drift_until_fixed_or_approved_again(tmp_path: Path) -> None:
    report_dir = tmp_path / "reports"
    by_alice = BaselineIdentity(str(report_dir / "baseline.json"), FIRST, "alice", _at(1))
    by_bob = BaselineIdentity(str(report_dir / "baseline.json"), SECOND, "bob", _at(4))
    lock = ("default lock days", "30", "7")
    purge = ("lifecycle rule 'purge'", "absent", "every object, current versions after 14 days")
    publish_all(
        report_dir,
        _run(1, by_alice, _matches(FIRST, "alice")),
        _run(2, by_alice, _drift(*lock, FIRST), _drift(*purge, FIRST)),
        _run(3, by_alice, _drift(*lock, FIRST)),  # the rule was removed again: fixed
        _run(4, by_bob, _matches(SECOND, "bob")),  # the shorter lock was approved
        _run(
            5,
            BaselineIdentity(str(report_dir / "baseline.json"), "cc" * 32, problem="it is not JSON"),
            _matches(SECOND, "bob"),
        ),
    )
    (report_dir / "baseline.json").write_text(codec.render(baseline(vault(days=7), by="bob").baseline))

    pack = build_pack(report_dir, Q3, tmp_path / "q3.zip", now=BUILT)
    files = contents(pack.path)
    assert files[f"{FOLDER}/baseline.json"] == (report_dir / "baseline.json").read_bytes()
    assert verify_pack(pack.path).ok
    page = html.unescape(files[f"{FOLDER}/summary.html"].decode())
    section = page[page.index("Approved baseline and drift") : page.index("Controls evidenced")]

    # The file, as drill baseline show prints it.
    assert "by bob" in section and "default lock days: 7" in section
    assert "alice" in section and "bob" in section and FIRST[:16] in section and SECOND[:16] in section
    assert "2 drifts from the approved baseline" in section
    rows = section[section.index("2 drifts from") :].split("<tr>")
    [lock_row] = [row for row in rows if "default lock days" in row and "30" in row]
    assert "approved again" in lock_row and "2026-07-04" in lock_row
    [purge_row] = [row for row in rows if "lifecycle rule 'purge'" in row]
    assert "fixed" in purge_row and "2026-07-03" in purge_row
    assert "no usable baseline" in section and "it is not JSON" in section


def test_a_drift_still_there_at_the_end_is_open(tmp_path: Path) -> None:
    report_dir = tmp_path / "reports"
    identity = BaselineIdentity(str(report_dir / "baseline.json"), FIRST, "alice", _at(1))
    publish_all(report_dir, _run(2, identity, _drift("default lock days", "30", "7", FIRST)))
    page = html.unescape(
        contents(build_pack(report_dir, Q3, tmp_path / "q3.zip", now=BUILT).path)[
            f"{FOLDER}/summary.html"
        ].decode()
    )
    assert "open at the end of the period" in page[page.index("Approved baseline and drift") :]


def test_without_a_baseline_the_pack_says_drift_was_not_monitored(tmp_path: Path) -> None:
    report_dir = tmp_path / "reports"
    publish_all(report_dir, _run(2, BaselineIdentity(str(report_dir / "baseline.json"), problem="missing")))
    files = contents(build_pack(report_dir, Q3, tmp_path / "q3.zip", now=BUILT).path)
    assert f"{FOLDER}/baseline.json" not in files
    page = html.unescape(files[f"{FOLDER}/summary.html"].decode())
    assert "No approved baseline file" in page and "was not monitored" in page


def test_a_tampered_baseline_file_is_named_in_the_pack(tmp_path: Path) -> None:
    report_dir = tmp_path / "reports"
    publish_all(
        report_dir, _run(2, BaselineIdentity(str(report_dir / "baseline.json"), FIRST, "alice", _at(1)))
    )
    written = codec.render(baseline(vault(), by="alice").baseline)
    (report_dir / "baseline.json").write_text(written.replace('"alice"', '"mallory"'))
    page = html.unescape(
        contents(build_pack(report_dir, Q3, tmp_path / "q3.zip", now=BUILT).path)[
            f"{FOLDER}/summary.html"
        ].decode()
    )
    assert "cannot be trusted" in page and "does not match the SHA-256" in page
