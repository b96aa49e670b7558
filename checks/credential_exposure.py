"""credential_exposure: no backup credential lies anywhere an agent can read.

Verdicts, strongest first:

- fail (critical): a credential of a backup target (a key id, a secret, a copy of a key file, or
  a key of the backup service account) is in the agent's paths. It must be treated as leaked.
- warn (high): credential-shaped files the agent can read that drill cannot tie to a backup: an
  agent that finds a token uses it, and its reach is unknown.
- warn (medium): nothing found, but some files could not be read or the file limit stopped the
  scan. Not a pass, since what was not read could hold a credential; not an error either, since
  one unreadable socket or cache file in a home directory must not fail every run.
- error: none of the configured paths exists, or the scan itself could not run.
- skipped: the agent has no ``paths`` and no ``env_file``.

Files skipped by the scan's documented bounds (binaries, files above the size limit, links out
of the tree) do not stop a pass; their counts are in the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from drill.facts import AgentFacts, CredentialSighting, Exposure, SightingKind, known
from drill.model import Control, Evidence, Scope, Severity, Status
from drill.registry import Outcome, check

_LISTED = 20  # sightings named in the message; all of them are in the evidence


def _where(sighting: CredentialSighting) -> str:
    return sighting.path if sighting.line is None else f"{sighting.path}:{sighting.line}"


def _reach(sighting: CredentialSighting) -> str:
    if not sighting.targets:
        return ""
    noun = "target" if len(sighting.targets) == 1 else "targets"
    return f", which reaches {noun} {', '.join(sighting.targets)}"


def _listing(sightings: Sequence[CredentialSighting]) -> str:
    named = [
        f"{_where(sighting)}: {sighting.what} {sighting.masked}{_reach(sighting)}"
        for sighting in sightings[:_LISTED]
    ]
    more = len(sightings) - _LISTED
    if more > 0:
        named.append(f"and {more} more in the evidence")
    return "; ".join(named)


@dataclass(frozen=True)
class SightingRow:
    """Where a credential was found and what it is; never its value, only a masked form."""

    path: str
    line: int | None
    kind: SightingKind
    what: str
    masked: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class ExposureEvidence(Evidence):
    """What the scan of an agent's paths covered and every credential it found there."""

    kind: ClassVar[str] = "credential_exposure"
    scanned: tuple[str, ...]
    missing: tuple[str, ...]
    sightings: tuple[SightingRow, ...]
    files_scanned: int
    bytes_scanned: int
    skipped_binary: int
    skipped_large: int
    skipped_symlinks: int
    truncated: bool
    unreadable: tuple[str, ...]
    seconds: float


def _evidence(exposure: Exposure) -> ExposureEvidence:
    stats = exposure.stats
    return ExposureEvidence(
        scanned=tuple(exposure.scanned),
        missing=tuple(exposure.missing),
        sightings=tuple(
            SightingRow(
                sighting.path,
                sighting.line,
                sighting.kind,
                sighting.what,
                sighting.masked,
                tuple(sighting.targets),
            )
            for sighting in exposure.sightings
        ),
        files_scanned=stats.files_scanned,
        bytes_scanned=stats.bytes_scanned,
        skipped_binary=stats.skipped_binary,
        skipped_large=stats.skipped_large,
        skipped_symlinks=stats.skipped_symlinks,
        truncated=stats.truncated,
        unreadable=tuple(stats.unreadable),
        seconds=round(stats.seconds, 3),
    )


def _caveats(exposure: Exposure) -> str:
    """What the scan could not cover, as sentences to append to a message."""
    notes = []
    if exposure.stats.unreadable:
        shown = ", ".join(exposure.stats.unreadable[:5])
        more = len(exposure.stats.unreadable) - 5
        extra = f" and {more} more" if more > 0 else ""
        notes.append(f" {len(exposure.stats.unreadable)} path(s) could not be read: {shown}{extra}.")
    if exposure.stats.truncated:
        notes.append(f" The scan stopped at its file limit after {exposure.stats.files_scanned} files.")
    if exposure.missing:
        notes.append(f" Not found: {', '.join(exposure.missing)}.")
    return "".join(notes)


@check(
    "credential_exposure",
    severity=Severity.CRITICAL,
    scope=Scope.AGENT,
    controls=(Control.ISO27001_A_8_3, Control.SOC2_CC6_1),
    remediation=(
        "Treat every credential found as leaked: rotate it, then remove it and any copy from the "
        "agent's paths. Give the agent its own least-privileged credentials and keep backup "
        "credentials where no agent can read them."
    ),
    evidence=(ExposureEvidence,),
)
def credential_exposure(facts: AgentFacts) -> Iterator[Outcome]:
    """No backup credential lies where the agent can read it."""
    agent = facts.agent
    if not agent.paths and not agent.env_file:
        yield Outcome.skipped(
            f"Agent {agent.name}: nothing to scan: set paths (or env_file) to what it can read."
        )
        return
    exposure = known(facts.exposure)
    evidence = _evidence(exposure)
    if not exposure.scanned:
        yield Outcome.errored(
            f"Agent {agent.name}: none of its paths exist ({', '.join(exposure.missing)}), "
            "so what it can read cannot be verified.",
            evidence,
        )
        return
    backup = [
        sighting for sighting in exposure.sightings if sighting.kind is not SightingKind.CREDENTIAL_FILE
    ]
    shaped = [sighting for sighting in exposure.sightings if sighting.kind is SightingKind.CREDENTIAL_FILE]
    caveats = _caveats(exposure)
    if backup:
        yield Outcome.failed(
            f"Agent {agent.name} can read {len(backup)} backup credential(s): {_listing(backup)}.{caveats}",
            evidence,
        )
        return
    if shaped:
        yield Outcome(
            Status.WARN,
            f"Agent {agent.name} can read {len(shaped)} credential(s) not known to reach a backup: "
            f"{_listing(shaped)}.{caveats}",
            evidence,
            severity=Severity.HIGH,
        )
        return
    stats = exposure.stats
    scanned = (
        f"{stats.files_scanned} files ({stats.bytes_scanned:,} bytes) under {', '.join(exposure.scanned)} "
        f"({stats.seconds:.1f}s)"
    )
    if stats.unreadable or stats.truncated:
        yield Outcome(
            Status.WARN,
            f"Agent {agent.name}: no credential found in {scanned}, but the scan is incomplete "
            f"and what it did not read could hold one.{caveats}",
            evidence,
            severity=Severity.MEDIUM,
        )
        return
    skipped = stats.skipped_binary + stats.skipped_large + stats.skipped_symlinks
    skipped_note = (
        f" Skipped by the scan's bounds: {stats.skipped_binary} binary, {stats.skipped_large} too large, "
        f"{stats.skipped_symlinks} link(s) out of the tree."
        if skipped
        else ""
    )
    yield Outcome.passed(
        f"Agent {agent.name}: no credential found in {scanned}.{skipped_note}{caveats}", evidence
    )
