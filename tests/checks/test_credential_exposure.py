from __future__ import annotations

from dataclasses import replace
from typing import Any

from drill.checks.credential_exposure import credential_exposure
from drill.config import Agent
from drill.engine import evaluate
from drill.facts import AgentFacts, CredentialSighting, Exposure, ScanStats, SightingKind, Unavailable
from drill.model import Severity, Status
from tests.factories import NOW

SPEC = credential_exposure.__drill_check__  # type: ignore[attr-defined]
AGENT = Agent(name="coder", paths=("/home/coder", "/srv/app"))
STATS = ScanStats(files_scanned=120, bytes_scanned=480_000, skipped_binary=3, skipped_large=1, seconds=0.25)
ENV_SECRET = CredentialSighting(
    path="/home/coder/app/.env",
    line=3,
    kind=SightingKind.KNOWN_SECRET,
    what="secret access key (variable BACKUP_SECRET)",
    masked="•••• (40 characters)",
    targets=("vault",),
)
KEY_FILE_COPY = CredentialSighting(
    path="/srv/app/sa.json",
    line=None,
    kind=SightingKind.KNOWN_KEY_FILE,
    what="copy of the service-account key file /etc/drill/sa.json",
    masked="•••• (whole file, 2300 bytes)",
    targets=("gvault", "offsite"),
)
PGPASS = CredentialSighting(
    path="/home/coder/.pgpass",
    line=2,
    kind=SightingKind.CREDENTIAL_FILE,
    what="PostgreSQL password of app@db:5432/orders (pgpass)",
    masked="•••• (9 characters)",
)


def facts(*sightings: CredentialSighting, agent: Agent = AGENT, **exposure_fields: Any) -> AgentFacts:
    exposure = Exposure(scanned=agent.paths, missing=(), sightings=sightings, stats=STATS)
    return AgentFacts(agent=agent, now=NOW, exposure=replace(exposure, **exposure_fields))


def test_backup_secret_in_an_env_file_fails_critical_with_file_line_and_mask() -> None:
    [finding] = evaluate(SPEC, facts(ENV_SECRET, PGPASS))
    assert finding.status is Status.FAIL
    assert finding.severity is Severity.CRITICAL
    assert finding.agent == "coder"
    assert (
        "/home/coder/app/.env:3: secret access key (variable BACKUP_SECRET) •••• (40 characters)"
        in finding.message
    )
    assert "which reaches target vault" in finding.message
    assert ".pgpass" not in finding.message  # the known credential is the verdict; the rest is evidence
    assert len(finding.evidence.sightings) == 2
    assert finding.evidence.sightings[0].kind == "known_secret"
    assert finding.remediation and "rotate" in finding.remediation


def test_copied_key_file_names_the_file_without_a_line_and_every_target() -> None:
    [finding] = evaluate(SPEC, facts(KEY_FILE_COPY))
    assert finding.status is Status.FAIL
    assert "/srv/app/sa.json: copy of the service-account key file" in finding.message
    assert "which reaches targets gvault, offsite" in finding.message


def test_many_sightings_are_all_in_the_evidence_and_the_message_stays_short() -> None:
    sightings = [replace(ENV_SECRET, line=line) for line in range(1, 31)]
    [finding] = evaluate(SPEC, facts(*sightings))
    assert finding.status is Status.FAIL
    assert "and 10 more in the evidence" in finding.message
    assert len(finding.evidence.sightings) == 30


def test_only_credential_shapes_warn_with_high_severity() -> None:
    [finding] = evaluate(SPEC, facts(PGPASS))
    assert finding.status is Status.WARN
    assert finding.severity is Severity.HIGH
    assert (
        "/home/coder/.pgpass:2: PostgreSQL password of app@db:5432/orders (pgpass) •••• (9 characters)"
        in (finding.message)
    )
    assert finding.remediation


def test_clean_scan_passes_with_the_stats_as_evidence() -> None:
    [finding] = evaluate(SPEC, facts())
    assert finding.status is Status.PASS
    assert "120 files" in finding.message
    assert "3 binary, 1 too large" in finding.message
    evidence = finding.evidence
    assert (evidence.files_scanned, evidence.bytes_scanned, evidence.seconds) == (120, 480_000, 0.25)
    assert (evidence.skipped_binary, evidence.skipped_large, evidence.skipped_symlinks) == (3, 1, 0)
    assert finding.remediation is None


def test_a_missing_root_beside_a_scanned_one_still_passes_and_says_so() -> None:
    [finding] = evaluate(SPEC, facts(scanned=("/home/coder",), missing=("/srv/app",)))
    assert finding.status is Status.PASS
    assert "Not found: /srv/app." in finding.message
    assert list(finding.evidence.missing) == ["/srv/app"]


def test_unreadable_files_without_sightings_warn_rather_than_pass() -> None:
    stats = replace(STATS, unreadable=("/home/coder/.ssh/config",))
    [finding] = evaluate(SPEC, facts(stats=stats))
    assert finding.status is Status.WARN
    assert finding.severity is Severity.MEDIUM
    assert "could not be read: /home/coder/.ssh/config" in finding.message
    assert list(finding.evidence.unreadable) == ["/home/coder/.ssh/config"]


def test_truncated_scan_without_sightings_warns() -> None:
    [finding] = evaluate(SPEC, facts(stats=replace(STATS, truncated=True)))
    assert finding.status is Status.WARN
    assert "file limit" in finding.message


def test_unreadable_files_do_not_soften_a_known_credential() -> None:
    [finding] = evaluate(SPEC, facts(ENV_SECRET, stats=replace(STATS, unreadable=("/home/coder/x",))))
    assert finding.status is Status.FAIL
    assert "could not be read: /home/coder/x" in finding.message


def test_all_roots_missing_is_an_error() -> None:
    [finding] = evaluate(SPEC, facts(scanned=(), missing=AGENT.paths))
    assert finding.status is Status.ERROR
    assert "/home/coder, /srv/app" in finding.message and "cannot be verified" in finding.message


def test_scan_that_could_not_run_is_an_error_with_the_reason() -> None:
    unavailable = AgentFacts(
        agent=AGENT,
        now=NOW,
        exposure=Unavailable("Could not scan the paths of agent coder: Permission denied"),
    )
    [finding] = evaluate(SPEC, unavailable)
    assert finding.status is Status.ERROR
    assert "Permission denied" in finding.message


def test_agent_without_paths_or_env_file_is_skipped() -> None:
    [finding] = evaluate(SPEC, facts(agent=Agent(name="bot")))
    assert finding.status is Status.SKIPPED
    assert "nothing to scan: set paths" in finding.message


def test_agent_with_only_an_env_file_is_judged() -> None:
    agent = Agent(name="bot", env_file="/etc/bot.env")
    [finding] = evaluate(SPEC, facts(agent=agent, scanned=("/etc/bot.env",)))
    assert finding.status is Status.PASS


def test_messages_end_with_a_period() -> None:
    cases = [
        facts(ENV_SECRET),
        facts(PGPASS),
        facts(),
        facts(stats=replace(STATS, unreadable=("/x",))),
        facts(scanned=(), missing=AGENT.paths),
        facts(agent=Agent(name="bot")),
    ]
    for case in cases:
        [finding] = evaluate(SPEC, case)
        assert finding.message.endswith("."), finding.message
