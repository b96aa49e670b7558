"""PostgreSQL password files (``.pgpass``): one sighting per line that holds a password."""

from __future__ import annotations

import re
from collections.abc import Iterator

from drill.facts import SightingKind
from drill.trust.exposure.known import mask_secret
from drill.trust.exposure.shape import Shape

_PGPASS_NAMES = frozenset({".pgpass", "pgpass", "pgpass.conf"})
_PGPASS_SEPARATOR = re.compile(rb"(?<!\\):")


def is_pgpass(name: str) -> bool:
    return name in _PGPASS_NAMES or name.endswith(".pgpass")


def pgpass_shapes(data: bytes) -> Iterator[Shape]:
    offset = 0
    for line in data.splitlines(keepends=True):
        fields = _PGPASS_SEPARATOR.split(line.rstrip(b"\r\n"))
        if not line.lstrip().startswith(b"#") and len(fields) == 5 and fields[4]:
            host, port, database, user = (part.decode("utf-8", "replace") for part in fields[:4])
            yield Shape(
                offset,
                SightingKind.CREDENTIAL_FILE,
                f"PostgreSQL password of {user}@{host}:{port}/{database} (pgpass)",
                mask_secret(len(fields[4])),
            )
        offset += len(line)
