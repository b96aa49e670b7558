"""What automated agents could read: a scan of each agent's paths for backup credentials.

No field ever holds a secret value; a sighting carries only where it was found and a masked form.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from drill.config import Agent
from drill.facts.base import Subject
from drill.model import Unavailable


class SightingKind(enum.StrEnum):
    """What was found. The first three are credentials drill knows reach a backup target."""

    KNOWN_SECRET = "known_secret"  # noqa: S105 - a kind of finding, not a password
    KNOWN_KEY_ID = "known_key_id"  # an access key id or service-account key id of a backup target
    KNOWN_KEY_FILE = "known_key_file"  # a copy of a backup target's credentials or key file
    CREDENTIAL_FILE = "credential_file"  # a well-known credential file shape, not known to reach a backup


@dataclass(frozen=True)
class CredentialSighting:
    path: str
    line: int | None  # 1-based; None when the whole file is the credential
    kind: SightingKind
    what: str  # e.g. "secret access key of target vault (variable BACKUP_SECRET)"; never the value
    masked: str  # e.g. "AKIA…MPLE" for an identifier, "•••• (40 characters)" for a secret
    targets: tuple[str, ...] = ()  # the backup targets this credential reaches, when known


@dataclass(frozen=True)
class ScanStats:
    files_scanned: int = 0
    bytes_scanned: int = 0
    skipped_binary: int = 0
    skipped_large: int = 0
    skipped_symlinks: int = 0  # links leading out of the scanned tree, never followed
    truncated: bool = False  # the file-count limit was reached before the tree was done
    unreadable: tuple[str, ...] = ()  # paths that could not be read (permission, vanished)
    seconds: float = 0.0


@dataclass(frozen=True)
class Exposure:
    """What a scan of one agent's ``paths`` (and ``env_file``) found."""

    scanned: tuple[str, ...]  # the roots actually scanned
    missing: tuple[str, ...]  # configured roots that do not exist
    sightings: tuple[CredentialSighting, ...]
    stats: ScanStats


@dataclass(frozen=True)
class AgentFacts:
    agent: Agent
    now: datetime
    exposure: Exposure | Unavailable

    @property
    def subject(self) -> Subject:
        return Subject(agent=self.agent.name)
