"""What drill knows about the backup credentials, to look for in an agent's files: values, whole
files and service accounts, each with the targets it reaches. Secret values stay out of ``repr``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from drill.facts import SightingKind

MAX_FILE_BYTES = 1_048_576
MIN_VALUE_LENGTH = 8  # shorter values would match by accident all over a tree


@dataclass(frozen=True)
class KnownValue:
    """One credential value of the backup targets. ``value`` is the secret itself: kept out of repr."""

    value: bytes = field(repr=False)
    kind: SightingKind  # KNOWN_SECRET or KNOWN_KEY_ID
    what: str  # "secret access key (variable BACKUP_SECRET)"; never the value
    targets: tuple[str, ...]
    length: int  # of the whole credential, for the mask (a private key is searched by one line of it)

    @property
    def masked(self) -> str:
        if self.kind is SightingKind.KNOWN_KEY_ID:
            return mask_identifier(self.value.decode("utf-8", "replace"))
        return mask_secret(self.length)


@dataclass(frozen=True)
class KnownFile:
    """A credentials or key file of the backup targets, recognised in copies by size and digest."""

    digest: bytes = field(repr=False)
    size: int
    what: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class KnownServiceAccount:
    """A service account the backup targets use: any key of it reaches them, not only the one drill has."""

    email: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class KnownCredentials:
    values: tuple[KnownValue, ...] = ()
    files: tuple[KnownFile, ...] = ()
    service_accounts: tuple[KnownServiceAccount, ...] = ()


def mask_identifier(value: str) -> str:
    """First and last four characters; two of each for a shorter value, none below eight, so that
    most of it always stays hidden."""
    if len(value) < MIN_VALUE_LENGTH:
        return mask_secret(len(value))
    keep = 4 if len(value) >= 16 else 2
    return f"{value[:keep]}…{value[-keep:]}"


def mask_secret(length: int) -> str:
    return f"•••• ({length} characters)"


class Learner:
    """Merges what several targets know: a value shared by two targets is one value reaching both."""

    def __init__(self) -> None:
        self.values: dict[bytes, tuple[SightingKind, str, int, list[str]]] = {}
        self.files: dict[bytes, tuple[int, str, list[str]]] = {}
        self.accounts: dict[str, list[str]] = {}

    def value(self, raw: str | None, kind: SightingKind, what: str, target: str, length: int = 0) -> None:
        if not raw or len(raw) < MIN_VALUE_LENGTH:
            return
        encoded = raw.encode()
        entry = self.values.setdefault(encoded, (kind, what, length or len(raw), []))
        if target not in entry[3]:
            entry[3].append(target)

    def file(self, content: bytes, what: str, target: str) -> None:
        entry = self.files.setdefault(hashlib.sha256(content).digest(), (len(content), what, []))
        if target not in entry[2]:
            entry[2].append(target)

    def account(self, email: str, target: str) -> None:
        targets = self.accounts.setdefault(email, [])
        if target not in targets:
            targets.append(target)

    def build(self) -> KnownCredentials:
        return KnownCredentials(
            values=tuple(
                KnownValue(value, kind, what, tuple(targets), length)
                for value, (kind, what, length, targets) in self.values.items()
            ),
            files=tuple(
                KnownFile(digest, size, what, tuple(targets))
                for digest, (size, what, targets) in self.files.items()
            ),
            service_accounts=tuple(
                KnownServiceAccount(email, tuple(targets)) for email, targets in self.accounts.items()
            ),
        )


def read_small(path: str) -> bytes | None:
    try:
        with Path(path).open("rb") as stream:
            content = stream.read(MAX_FILE_BYTES + 1)
    except OSError:
        return None
    return content if len(content) <= MAX_FILE_BYTES else None
