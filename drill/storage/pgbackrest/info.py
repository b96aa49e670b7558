"""``pgbackrest info --output=json``, read into one ``InfoRepo`` per repository of one stanza.

The JSON is pgBackRest's (drill only reads what it needs, and a field that is missing or of the
wrong type makes the whole answer unreadable, never a guess). Its shape, for 2.45:
``[{"name", "status", "repo": [{"key", "cipher", "status": {"code", "message"}}], "db": [{"id",
"repo-key", "version", "system-id"}], "archive": [{"id", "min", "max", "database": {"id",
"repo-key"}}], "backup": [{"label", "type", "timestamp": {"start", "stop"}, "archive": {"start",
"stop"}, "lsn": {"start", "stop"}, "error", "info": {"size", "repository": {"size"}}, "database":
{"id", "repo-key"}}]}]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drill.facts.pgbackrest import StanzaBackup, WalRange


class InfoUnreadable(Exception):
    """The info output is not what pgBackRest 2.x prints; the message says what was wrong."""


@dataclass(frozen=True)
class InfoRepo:
    """What info says about one repository of the stanza."""

    key: int
    cipher: str
    status_code: int
    status: str
    backups: tuple[StanzaBackup, ...]  # oldest first
    archive_id: str | None
    archive_min: str | None
    archive_max: str | None
    pg_versions: tuple[str, ...]


@dataclass(frozen=True)
class StanzaInfo:
    name: str
    status_code: int
    status: str
    repos: tuple[InfoRepo, ...]

    def repo(self, key: int) -> InfoRepo | None:
        return next((repo for repo in self.repos if repo.key == key), None)


def parse_info(output: str, stanza: str) -> StanzaInfo:
    """The stanza's part of info's JSON; InfoUnreadable if the stanza is not there or the JSON is not info's."""
    try:
        stanzas = json.loads(output)
    except json.JSONDecodeError as error:
        raise InfoUnreadable(f"pgbackrest info did not print JSON: {error}.") from None
    if not isinstance(stanzas, list):
        raise InfoUnreadable("pgbackrest info printed JSON that is not a list of stanzas.")
    found = next((item for item in stanzas if isinstance(item, dict) and item.get("name") == stanza), None)
    if found is None:
        raise InfoUnreadable(f"pgbackrest info does not list stanza {stanza!r}.")
    try:
        return _stanza(found)
    except (KeyError, TypeError, ValueError) as error:
        raise InfoUnreadable(
            f"pgbackrest info's JSON for stanza {stanza!r} lacks what drill reads ({type(error).__name__}: {error})."
        ) from None


def _stanza(data: Mapping[str, Any]) -> StanzaInfo:
    status = data["status"]
    keys = [int(repo["key"]) for repo in data.get("repo", [])]
    repos = tuple(_repo(data, key) for key in sorted(keys))
    return StanzaInfo(str(data["name"]), int(status["code"]), str(status["message"]), repos)


def _repo(data: Mapping[str, Any], key: int) -> InfoRepo:
    repo = next(item for item in data["repo"] if int(item["key"]) == key)
    history = [db for db in data.get("db", []) if int(db["repo-key"]) == key]
    versions = {int(db["id"]): str(db["version"]) for db in history}
    current = max(versions) if versions else None
    archives = [
        archive
        for archive in data.get("archive", [])
        if int(archive["database"]["repo-key"]) == key and int(archive["database"]["id"]) == current
    ]
    archive = archives[0] if archives else None
    backups = sorted(
        (
            _backup(item, versions)
            for item in data.get("backup", [])
            if int(item["database"]["repo-key"]) == key
        ),
        key=lambda backup: (backup.stopped_at, backup.label),
    )
    return InfoRepo(
        key=key,
        cipher=str(repo.get("cipher", "none")),
        status_code=int(repo["status"]["code"]),
        status=str(repo["status"]["message"]),
        backups=tuple(backups),
        archive_id=str(archive["id"]) if archive else None,
        archive_min=_text(archive.get("min")) if archive else None,
        archive_max=_text(archive.get("max")) if archive else None,
        pg_versions=tuple(versions[db_id] for db_id in sorted(versions)),
    )


def _backup(item: Mapping[str, Any], versions: Mapping[int, str]) -> StanzaBackup:
    timestamps = item["timestamp"]
    archive = item.get("archive") or {}
    lsn = item.get("lsn") or {}
    info = item.get("info") or {}
    error = item.get("error")
    start, stop = _text(archive.get("start")), _text(archive.get("stop"))
    return StanzaBackup(
        label=str(item["label"]),
        type=str(item["type"]),
        started_at=_time(timestamps["start"]),
        stopped_at=_time(timestamps["stop"]),
        repo=int(item["database"]["repo-key"]),
        error=error if isinstance(error, bool) else None,
        wal=WalRange(start, stop) if start and stop else None,
        lsn_start=_text(lsn.get("start")),
        lsn_stop=_text(lsn.get("stop")),
        database_size=int(info.get("size") or 0),
        repo_size=int((info.get("repository") or {}).get("size") or 0),
        pg_version=versions.get(int(item["database"]["id"])),
    )


def _time(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"timestamp {value!r} is not a number of seconds")
    return datetime.fromtimestamp(value, UTC)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
