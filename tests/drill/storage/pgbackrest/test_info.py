import json

import pytest

from drill.storage.pgbackrest.info import InfoUnreadable, parse_info

# The shape pgBackRest 2.45 prints (measured on the stanzas of tests/pgbackrest_estate.py).
INFO = [
    {
        "name": "main",
        "status": {"code": 0, "message": "ok"},
        "repo": [{"key": 1, "cipher": "none", "status": {"code": 0, "message": "ok"}}],
        "db": [{"id": 1, "repo-key": 1, "version": "15", "system-id": 7}],
        "archive": [
            {"id": "15-1", "min": "000000010000000000000001", "max": "000000010000000000000005",
             "database": {"id": 1, "repo-key": 1}},
        ],
        "backup": [
            {"label": "20261205-225111F", "type": "full", "error": True,
             "timestamp": {"start": 1796511071, "stop": 1796511072},
             "archive": {"start": "000000010000000000000004", "stop": "000000010000000000000004"},
             "lsn": {"start": "0/4000028", "stop": "0/4000100"},
             "info": {"size": 30513426, "repository": {"size": 4000000}},
             "database": {"id": 1, "repo-key": 1}},
        ],
    }
]  # fmt: skip


def test_info_is_read_per_repository() -> None:
    stanza = parse_info(json.dumps(INFO), "main")
    [repo] = stanza.repos
    [backup] = repo.backups
    assert (repo.archive_id, repo.archive_min, repo.archive_max) == (
        "15-1",
        "000000010000000000000001",
        "000000010000000000000005",
    )
    assert backup.error is True and backup.wal is not None and backup.wal.start == "000000010000000000000004"
    assert backup.repo_size == 4000000 and backup.pg_version == "15"


def test_a_missing_stanza_or_a_foreign_shape_is_unreadable() -> None:
    with pytest.raises(InfoUnreadable, match="does not list stanza 'other'"):
        parse_info(json.dumps(INFO), "other")
    broken = [dict(INFO[0], backup=[{"label": "x", "timestamp": {"start": "soon", "stop": 1}}])]
    with pytest.raises(InfoUnreadable, match="lacks what drill reads"):
        parse_info(json.dumps(broken), "main")
    with pytest.raises(InfoUnreadable, match="did not print JSON"):
        parse_info("ERROR: [055]", "main")
