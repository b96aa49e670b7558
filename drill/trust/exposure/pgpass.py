"""PostgreSQL password files (``.pgpass``): one sighting per line that holds a password.

A file is one by its name, or by its content under any name: every line that is neither blank nor
a comment has the five fields ``host:port:database:user:password``, the port a number or ``*``,
and at least one line has a password. A colon-separated file of another kind (``/etc/passwd``
has seven fields, a log line has a time) fails the first line that is not of that shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from drill.facts import SightingKind
from drill.trust.exposure.known import mask_secret
from drill.trust.exposure.shape import Shape

_PGPASS_NAMES = frozenset({".pgpass", "pgpass", "pgpass.conf"})
_PGPASS_SEPARATOR = re.compile(rb"(?<!\\):")


_MAX_LINES_JUDGED = 10_000  # a pgpass is far shorter; a longer file is not taken for one by content


def is_pgpass(name: str) -> bool:
    return name in _PGPASS_NAMES or name.endswith(".pgpass")


def looks_like_pgpass(data: bytes) -> bool:
    """Whether a file under another name has the shape of a password file (see above)."""
    if data.count(b":", 0, 4096) < 4:  # one fast look rules out nearly every file
        return False
    with_password = False
    start = 0
    # Line by line without splitting the whole file: most files fail on their first line.
    for _ in range(_MAX_LINES_JUDGED):
        if start >= len(data):
            return with_password
        end = data.find(b"\n", start)
        end = len(data) if end == -1 else end
        line = data[start:end].rstrip(b"\r")
        start = end + 1
        if not line.strip() or line.lstrip().startswith(b"#"):
            continue
        fields = _PGPASS_SEPARATOR.split(line)
        if len(fields) != 5 or not (fields[1] == b"*" or fields[1].isdigit()) or not all(fields[:4]):
            return False
        with_password = with_password or bool(fields[4])
    return False


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
