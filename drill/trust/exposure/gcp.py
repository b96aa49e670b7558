"""GCP service-account keys: the key files the backup targets name, and service-account JSON found
anywhere, a key of a backup service account reaching the backups even when drill does not hold it."""

from __future__ import annotations

import json
from collections.abc import Iterator

from drill.facts import SightingKind
from drill.trust.exposure.known import KnownCredentials, Learner, mask_secret, read_small
from drill.trust.exposure.shape import Shape


def learn_service_account(learner: Learner, path: str, target: str) -> None:
    content = read_small(path)
    if content is None:
        return
    try:
        document = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return
    if not isinstance(document, dict):
        return
    email = document.get("client_email")
    owner = email if isinstance(email, str) and email else "a service account"
    key_id = document.get("private_key_id")
    if isinstance(key_id, str):
        learner.value(key_id, SightingKind.KNOWN_KEY_ID, f"service-account key id of {owner}", target)
    private_key = document.get("private_key")
    if isinstance(private_key, str):
        learner.value(
            _private_key_probe(private_key),
            SightingKind.KNOWN_SECRET,
            f"private key of {owner}",
            target,
            length=len(private_key),
        )
    if isinstance(email, str) and email:
        learner.account(email, target)
    learner.file(content, f"copy of the service-account key file {path}", target)


def _private_key_probe(private_key: str) -> str | None:
    """One line of the key's base64 body: it reads the same in the JSON (newlines escaped as
    ``\\n``) and in a PEM file written from it. Not the first line: PKCS#8 headers of keys of one
    size share its first forty characters."""
    body = [line for line in private_key.splitlines() if line and not line.startswith("-----")]
    if not body:
        return None
    return body[1] if len(body) > 1 else body[0]


def service_account_shape(data: bytes, known: KnownCredentials, *, knows_values: bool) -> Iterator[Shape]:
    if b'"service_account"' not in data or b'"private_key"' not in data:
        return
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return
    if not isinstance(document, dict) or document.get("type") != "service_account":
        return
    private_key = document.get("private_key")
    if not isinstance(private_key, str) or not private_key:
        return
    offset = data.find(b'"private_key"')
    email = document.get("client_email")
    email = email if isinstance(email, str) else ""
    backup_account = next((account for account in known.service_accounts if account.email == email), None)
    if backup_account is not None and not knows_values:
        # A key drill does not hold, of the very account the backups use: it reaches them all the same.
        yield Shape(
            offset,
            SightingKind.KNOWN_KEY_FILE,
            f"key file of the backup service account {email} (a key other than the one drill knows)",
            mask_secret(len(private_key)),
            backup_account.targets,
        )
        return
    yield Shape(
        offset,
        SightingKind.CREDENTIAL_FILE,
        f"GCP service-account private key of {email or 'an unnamed account'}",
        mask_secret(len(private_key)),
    )
