"""pgbackrest_cipher: a repository outside the database host's trust domain is encrypted.

A local directory lives with the database it backs up; a bucket (or a repository host) is read by
whoever holds its credentials or its provider's access. pgBackRest encrypts a repository with
``repoN-cipher-type=aes-256-cbc``; without it, reading the repository is reading the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from drill.facts import RepositoryFacts, known
from drill.model import Control, Evidence, Scope, Severity
from drill.registry import Outcome, check


@dataclass(frozen=True)
class CipherEvidence(Evidence):
    """The repository's storage and cipher type (never its passphrase)."""

    kind: ClassVar[str] = "pgbackrest_cipher"
    stanza: str
    repo: int
    storage: str  # posix | cifs | s3 | gcs | azure
    local: bool
    cipher: str


@check(
    "pgbackrest_cipher",
    severity=Severity.MEDIUM,
    scope=Scope.REPOSITORY,
    controls=(Control.ISO27001_A_8_13, Control.SOC2_CC6_1),
    remediation=(
        "Create an encrypted repository (repoN-cipher-type=aes-256-cbc with a repoN-cipher-pass kept out of "
        "the config file's readers) and back up into it; an existing repository cannot be encrypted in place."
    ),
    evidence=(CipherEvidence,),
)
def pgbackrest_cipher(facts: RepositoryFacts) -> Iterator[Outcome]:
    """Repository outside the host is encrypted."""
    repo = known(facts.repo)
    settings = repo.settings
    where = f"repo{settings.key} of stanza {repo.stanza} ({facts.target.name}, {settings.describe_storage()})"
    evidence = CipherEvidence(
        stanza=repo.stanza, repo=settings.key, storage=settings.type, local=settings.local, cipher=repo.cipher
    )
    if repo.cipher != "none":
        yield Outcome.passed(f"{where} is encrypted ({repo.cipher}).", evidence)
    elif settings.local:
        yield Outcome.passed(
            f"{where} is not encrypted, but it is a directory on the database's own host, inside its trust domain.",
            evidence,
        )
    else:
        yield Outcome.warned(
            f"{where} is not encrypted (cipher none) and lives outside the database's host: whoever can read it "
            "reads the database.",
            evidence,
        )
