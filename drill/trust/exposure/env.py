"""``.env`` files: assignments of variables whose names say they hold a secret."""

from __future__ import annotations

import re
from collections.abc import Iterator

from drill.facts import SightingKind
from drill.trust.exposure.known import mask_identifier, mask_secret
from drill.trust.exposure.shape import Shape, placeholder

_ENV_ASSIGNMENT = re.compile(
    rb"(?m)^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*?)[ \t]*\r?$"
)
_ENV_SECRET_WORDS = ("SECRET", "PASSWORD", "PASSWD", "TOKEN", "PRIVATE_KEY", "API_KEY")
_ENV_IDENTIFIERS = frozenset({"AWS_ACCESS_KEY_ID", "GOOGLE_APPLICATION_CREDENTIALS"})  # not secrets


def is_env_file(name: str) -> bool:
    return name in (".env", ".envrc", "envrc") or name.startswith(".env.") or name.endswith(".env")


def env_shapes(data: bytes) -> Iterator[Shape]:
    for match in _ENV_ASSIGNMENT.finditer(data):
        name = match.group(1).decode().upper()
        if name not in _ENV_IDENTIFIERS and not any(word in name for word in _ENV_SECRET_WORDS):
            continue
        value = match.group(2).strip(b"\"'")
        # Only digits is a setting (TOKEN_TTL=3600), not a credential.
        if not value or value.isdigit() or placeholder(value):
            continue
        if name in _ENV_IDENTIFIERS:
            masked = mask_identifier(value.decode("utf-8", "replace"))
        else:
            masked = mask_secret(len(value))
        yield Shape(match.start(), SightingKind.CREDENTIAL_FILE, f"{name} in an env file", masked)
