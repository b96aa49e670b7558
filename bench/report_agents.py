"""The credential checks' findings of one synthetic run, each with the evidence type its check
records: credential_exposure, trust_separation (the twelve permission answers per agent and
target) and verifier_least_privilege (see ``bench/reports.py``)."""

from __future__ import annotations

from bench.report_estate import EstateFacts, Moment
from drill.checks._trust import PermissionRow
from drill.checks.credential_exposure import ExposureEvidence, SightingRow
from drill.checks.trust_separation import AgentAccessEvidence, IdentityRow
from drill.checks.verifier_least_privilege import VerifierAccessEvidence
from drill.facts import Answer, EvidenceSource, SightingKind
from drill.model import Finding, Severity, Status
from drill.permissions import S3_DESTRUCTIVE


def exposure(facts: EstateFacts, moment: Moment, k: int) -> Finding:
    agent = facts.estate.agent_name(k)
    sightings = tuple(
        SightingRow(
            path=f"/home/{agent}/work/service-{n}/.env",
            line=3 + n,
            kind=SightingKind.CREDENTIAL_FILE,
            what="AWS_SECRET_ACCESS_KEY in an env file",
            masked="•••• (40 characters)",
            targets=(),
        )
        for n in range(2)
    )
    evidence = ExposureEvidence(
        scanned=(f"/home/{agent}/work", f"/home/{agent}/.config"),
        missing=(),
        sightings=sightings,
        files_scanned=8_412 + k,
        bytes_scanned=183_220_114 + k,
        skipped_binary=1_204,
        skipped_large=37,
        skipped_symlinks=4,
        truncated=False,
        unreadable=(),
        seconds=1.84,
    )
    return facts.finding(
        "credential_exposure",
        Status.WARN,
        f"Agent {agent}: no backup credential found in 2 paths (8,412 files), but 2 credential-shaped "
        f"files lie in its reach: /home/{agent}/work/service-0/.env, /home/{agent}/work/service-1/.env.",
        evidence,
        severity=Severity.MEDIUM,
        agent=agent,
    )


def permissions(locked: bool, allowed: frozenset[str]) -> tuple[PermissionRow, ...]:
    return tuple(
        PermissionRow(
            permission=permission,
            answer=Answer.ALLOWED if permission in allowed else Answer.DENIED,
            source=(
                EvidenceSource.SIMULATION if permission.startswith("s3:Put") else EvidenceSource.PROBE
            ).value,
            detail="iam:SimulatePrincipalPolicy: implicitDeny"
            if permission not in allowed
            else "iam:SimulatePrincipalPolicy: allowed by policy backup-writer-inline",
            effect="hide" if locked else "destroy",
        )
        for permission in S3_DESTRUCTIVE
    )


def trust(facts: EstateFacts, moment: Moment, k: int, i: int) -> Finding:
    agent = facts.estate.agent_name(k)
    target = facts.estate.target_name(i)
    locked = facts.locked(i)
    failing = ("trust_separation", f"{agent} / {target}") in moment.failing
    # The first agent may delete on every bucket: a warning on locked ones, a failure elsewhere.
    allowed = frozenset({"s3:DeleteObject", "s3:DeleteObjectVersion"}) if k == 0 or failing else frozenset()
    principal = f"arn:aws:iam::{facts.accounts[0]}:role/{agent}"
    peers = [facts.estate.target_name(p) for p in range(i % 2, min(facts.estate.targets, 12), 2) if p != i]
    owner = facts.accounts[1 + i % 3]
    evidence = AgentAccessEvidence(
        agent_identity=IdentityRow(principal, facts.accounts[0], "sts:GetCallerIdentity"),
        owner_account=owner,
        drill_identity=IdentityRow(
            f"arn:aws:iam::{owner}:role/drill-verifier", owner, "sts:GetCallerIdentity"
        ),
        permissions=permissions(locked, allowed),
        gaps=(),
        locked=locked,
        other_immutable_copies=tuple(peers[:5]) if locked else (),
        evidence=("identity", "simulation", "probe"),
    )
    who = f"Agent {agent} ({principal})"
    on = " (evidence: identity, simulation, probe)"
    if allowed and not locked:
        message = (
            f"{who} could destroy the backups on {target} (no other copy is locked): s3:DeleteObjectVersion "
            f"(deletes snapshot versions that no COMPLIANCE lock holds){on}."
        )
        return facts.finding("trust_separation", Status.FAIL, message, evidence, agent=agent, target=target)
    if allowed:
        message = (
            f"{who} cannot destroy the backups on {target}, which are locked in COMPLIANCE mode, but could "
            f"hide them, expire them once their lock passes, or protect later backups less: "
            f"s3:DeleteObject (adds delete markers; locked versions stay){on}."
        )
        return facts.finding("trust_separation", Status.WARN, message, evidence, agent=agent, target=target)
    message = (
        f"{who} cannot delete or weaken the backups on {target} (another account: {facts.accounts[0]}, "
        f"backups in {owner}): 12 destructive permissions denied (identity, simulation, probe)."
    )
    return facts.finding("trust_separation", Status.PASS, message, evidence, agent=agent, target=target)


def least_privilege(facts: EstateFacts, moment: Moment, i: int) -> Finding:
    target = facts.estate.target_name(i)
    evidence = VerifierAccessEvidence(
        permissions=permissions(facts.locked(i), frozenset()), gaps=(), locked=facts.locked(i)
    )
    message = (
        f"drill's credentials for {target} hold none of the 12 destructive permissions drill asks about "
        f"(bucket {facts.bucket(i)}, role drill-verifier)."
    )
    return facts.finding("verifier_least_privilege", Status.PASS, message, evidence, target=target)
