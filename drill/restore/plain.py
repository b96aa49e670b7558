"""A plain SQL dump is a psql script, and psql runs meta-commands (``\\!``, ``\\connect``, ``\\o |``).

drill feeds it to psql behind a ``\\restrict <key>`` of its own, set before the dump's first byte
with a key made after the dump was written: from then on psql refuses every meta-command, and only
``\\unrestrict <key>`` would lift that. psql has ``\\restrict`` from 13.22, 14.19, 15.14, 16.10,
17.6 and 18 on (the fix for CVE-2025-8714); an older psql gets no plain dump at all.

pg_dump of those versions writes its own ``\\restrict K`` after the header comments and
``\\unrestrict K`` as the last line. Under drill's restriction either line would be refused and
stop the restore, so exactly those two lines are turned into comments in drill's downloaded copy
(two bytes each, written in place): the first only when nothing but comments and blank lines
precede it, the last only when it names the same key. Whatever else the snapshot holds, anywhere,
meets drill's restriction.

The same single pass reads the role names and the extensions the dump names (roles need to exist
before ``ALTER ... OWNER TO``; extensions are judged before anything is restored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from drill.restore.toc import Extension, extension_schema

# Roles a plain dump names; a scratch cluster lacks them, and ON_ERROR_STOP would end the restore.
# A name as pg_dump writes it (fmtId): bare when lower case, else in double quotes; a string
# literal after SET SESSION AUTHORIZATION (--use-set-session-authorization).
_NAME = rb'"(?:[^"\n]|"")+"|\'(?:[^\'\n]|\'\')+\'|[A-Za-z_\x80-\xff][\w$\x80-\xff]*'
_ROLE_LIST = re.compile(
    rb"(?:OWNER TO|GRANT .+? TO|FOR ROLE|USER MAPPING FOR|CREATE POLICY .+? TO|SET ROLE|SET SESSION AUTHORIZATION)"
    rb"\s+((?:" + _NAME + rb")(?:\s*,\s*(?:" + _NAME + rb"))*)"
)
_ROLE_NAME = re.compile(_NAME)
_EXTENSION = re.compile(rb"^CREATE EXTENSION [^\n]*", re.MULTILINE)
# Bare words in a role's place that are not roles.
_NOT_ROLES = frozenset({"public", "current_user", "session_user", "current_role", "default", "none"})
# The statements that name roles are short lines; a longer unfinished line (a COPY row) is read on
# from this many bytes before its end, so a role name is never cut at a chunk boundary.
_LONGEST_STATEMENT = 1 << 16
_HEAD = 1 << 16
_TAIL = 1 << 12
_RESTRICT = re.compile(rb"\\restrict ([A-Za-z0-9]+)[ \t\r]*$")
_UNRESTRICT = re.compile(rb"\\unrestrict ([A-Za-z0-9]+)[ \t\r]*$")
_COMMENT = b"--"
# (major, first minor with \restrict) for the branches that got it as a fix; 18 had it from the start.
_RESTRICT_SINCE = {13: 22, 14: 19, 15: 14, 16: 10, 17: 6}
_FIRST_MAJOR_WITH_RESTRICT = 18


@dataclass(frozen=True)
class PlainScan:
    roles: frozenset[str]
    extensions: tuple[Extension, ...]


def psql_refusal(version: str) -> str | None:
    """Why this psql may not restore plain dumps (it lacks ``\\restrict``); None when it may."""
    numbers = [int(part) for part in re.findall(r"\d+", version)[:2]]
    major, minor = [*numbers, 0, 0][:2]
    if major >= _FIRST_MAJOR_WITH_RESTRICT or minor >= _RESTRICT_SINCE.get(major, 1 << 30):
        return None
    return (
        f"psql {version} cannot be kept from running the meta-commands (\\! and the like) a plain SQL "
        "dump may hold: that needs \\restrict, which came with psql 13.22, 14.19, 15.14, 16.10, "
        "17.6 and 18. Install a newer PostgreSQL client, or back up in the custom format (pg_dump -Fc)."
    )


def scan(path: Path, chunk_size: int = 1 << 22) -> PlainScan:
    """The role names and extensions a plain SQL dump names, read in chunks (a dump may be many GB).

    Reserved ``pg_`` roles are left out: every cluster that knows them has them, and CREATE ROLE
    refuses the prefix.
    """
    roles: set[str] = set()
    extensions: dict[str, Extension] = {}
    pending = b""  # the unfinished last line of what was read so far
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            block = pending + chunk
            cut = max(block.rfind(b"\n") + 1, len(block) - _LONGEST_STATEMENT)
            _read(block[:cut], roles, extensions)
            pending = block[cut:]
    _read(pending, roles, extensions)
    return PlainScan(frozenset(roles), tuple(extensions.values()))


def roles_named(path: Path, chunk_size: int = 1 << 22) -> set[str]:
    return set(scan(path, chunk_size).roles)


def _read(text: bytes, roles: set[str], extensions: dict[str, Extension]) -> None:
    roles.update(roles_in(text))
    for line in _EXTENSION.findall(text):
        statement = line.decode("utf-8", "replace")
        name = _extension_name(statement)
        if name:
            extensions.setdefault(name, Extension(name, extension_schema(statement)))


def _extension_name(statement: str) -> str | None:
    match = re.match(r'CREATE EXTENSION (?:IF NOT EXISTS )?("(?:[^"]|"")+"|[^\s;]+)', statement)
    if not match:
        return None
    raw = match.group(1)
    return raw[1:-1].replace('""', '"') if raw.startswith('"') else raw.lower()


def roles_in(text: bytes) -> set[str]:
    roles = set()
    for names in _ROLE_LIST.findall(text):
        for raw in _ROLE_NAME.findall(names):
            if raw[:1] in (b'"', b"'"):
                quote = raw[:1]
                name = raw[1:-1].replace(quote + quote, quote).decode("utf-8", "replace")
            else:
                name = raw.lower().decode("utf-8", "replace")  # unquoted names fold to lower case
                if name in _NOT_ROLES:
                    continue
            if not name.startswith("pg_"):
                roles.add(name)
    return roles


def disarm_own_restrict(path: Path) -> bool:
    """Comment out pg_dump's own ``\\restrict K`` / ``\\unrestrict K`` pair, in place; True if found.

    Only a ``\\restrict`` preceded by nothing but comments and blank lines counts, so no command
    of the snapshot's can run before it; its ``\\unrestrict`` only as the last line, with the same key.
    """
    with path.open("r+b") as handle:
        head = handle.read(_HEAD)
        found = _leading_restrict(head)
        if found is None:
            return False
        offset, key = found
        handle.seek(offset)
        handle.write(_COMMENT)
        size = handle.seek(0, 2)
        start = max(offset + 1, size - _TAIL)
        handle.seek(start)
        tail = handle.read()
        lines = tail.rstrip(b"\n").rsplit(b"\n", 1)
        last = lines[-1]
        match = _UNRESTRICT.match(last)
        if match and match.group(1) == key:
            handle.seek(start + len(tail.rstrip(b"\n")) - len(last))
            handle.write(_COMMENT)
    return True


def _leading_restrict(head: bytes) -> tuple[int, bytes] | None:
    offset = 0
    for line in head.split(b"\n"):
        stripped = line.strip()
        if stripped and not stripped.startswith(b"--"):
            match = _RESTRICT.match(line)
            return (offset, match.group(1)) if match else None
        offset += len(line) + 1
    return None
