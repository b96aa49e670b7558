"""snapshot_links: no snapshot of a filesystem target is a symbolic link, least of all one leaving it.

A copy that is a link to somewhere else is not a copy: deleting the file it points to deletes
both. A link leaving the target would also make drill count, read and restore a file outside
the directory it was asked to check. drill follows no link below a filesystem target's
directory, so such an entry is neither counted nor read; this check says so rather than let it
pass in silence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from drill.config import TargetType
from drill.facts import DatabaseTargetFacts, known
from drill.model import Control, EntryKind, Evidence, Scope, Severity, UnfollowedEntry
from drill.registry import Outcome, check

_DESCRIBED = {
    EntryKind.FILE_LINK: "a symbolic link to a file",
    EntryKind.DIRECTORY_LINK: "a symbolic link to a directory",
    EntryKind.DANGLING_LINK: "a symbolic link to nothing",
    EntryKind.SPECIAL_FILE: "not a regular file (a FIFO, socket or device)",
}
_SHOWN = 3  # entries named in a message; the evidence holds up to 20


@dataclass(frozen=True)
class LinkRow:
    """One entry drill did not follow: its key, kind, where a link points, and whether that is outside."""

    key: str
    kind: EntryKind
    destination: str | None
    leaves_target: bool


@dataclass(frozen=True)
class LinksEvidence(Evidence):
    """The links and special files met where the database's snapshots are, on a filesystem target."""

    kind: ClassVar[str] = "snapshot_links"
    pattern: str
    entries: tuple[LinkRow, ...]  # the first few, by key
    total: int
    leaving: int  # how many of ``entries`` resolve outside the target


@dataclass(frozen=True)
class NotAFilesystemEvidence(Evidence):
    """An object store holds no symbolic links."""

    kind: ClassVar[str] = "snapshot_links.not_applicable"
    target_type: str


@check(
    "snapshot_links",
    severity=Severity.HIGH,
    scope=Scope.DATABASE_TARGET,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_A1_2),
    remediation=(
        "Replace the link with a real copy of the snapshot (or remove it), and keep each copy in its own "
        "target's directory: a link shares the fate of the file it points to."
    ),
    evidence=(LinksEvidence, NotAFilesystemEvidence),
)
def snapshot_links(facts: DatabaseTargetFacts) -> Iterator[Outcome]:
    """No snapshot is a symbolic link, nor lies behind one."""
    target = facts.target
    if target.type is not TargetType.FILESYSTEM:
        yield Outcome.skipped(
            f"Target {target.name} is {target.type.value}: an object store holds no symbolic links.",
            NotAFilesystemEvidence(target_type=target.type.value),
        )
        return
    listing = known(facts.listing)
    entries = listing.unfollowed
    evidence = LinksEvidence(
        pattern=listing.pattern,
        entries=tuple(_row(entry) for entry in entries),
        total=listing.unfollowed_count,
        leaving=sum(entry.leaves_target for entry in entries),
    )
    if not listing.unfollowed_count:
        yield Outcome.passed(
            f"No symbolic link or special file where snapshots of {facts.database.name} matching "
            f"{listing.pattern!r} are on {target.name}.",
            evidence,
        )
        return
    leaving = [entry for entry in entries if entry.leaves_target]
    if leaving:
        yield Outcome.failed(
            f"{_listed(leaving, len(leaving))}: outside the directory of target {target.name}. A copy that "
            "is a link to somewhere else is not a copy; drill neither counts, reads nor restores it.",
            evidence,
        )
        return
    yield Outcome.warned(
        f"{_listed(list(entries), listing.unfollowed_count)}: inside target {target.name}. drill follows "
        f"no link and reads no special file, so none of these counts as a snapshot of "
        f"{facts.database.name}; a file a link points to inside the target counts once, where it is.",
        evidence,
    )


def _row(entry: UnfollowedEntry) -> LinkRow:
    return LinkRow(entry.key, entry.kind, entry.destination, entry.leaves_target)


def _listed(entries: list[UnfollowedEntry], total: int) -> str:
    """'a is a symbolic link to a file (/etc/x); b is ... and 4 more': the first few, then a count."""
    shown = "; ".join(
        f"{entry.key} is {_DESCRIBED[entry.kind]}" + (f" ({entry.destination})" if entry.destination else "")
        for entry in entries[:_SHOWN]
    )
    hidden = total - min(len(entries), _SHOWN)
    return shown + (f"; and {hidden} more" if hidden > 0 else "")
