"""Replay against the archive, judged on facts as pgBackRest's info and the server report them."""

from datetime import UTC, datetime

from drill.facts.pgbackrest import RepoSettings, StanzaBackup, StanzaRepo, WalArchive, WalRange
from drill.model import Unavailable
from drill.restore.physical.replay import judge

SEGMENT = 16 << 20
BACKUP = StanzaBackup(
    label="20261122-100000F", type="full", started_at=datetime(2026, 11, 22, 10, tzinfo=UTC),
    stopped_at=datetime(2026, 11, 22, 10, 1, tzinfo=UTC), repo=1, error=False,
    wal=WalRange("000000010000000000000002", "000000010000000000000002"), lsn_start="0/2000028",
    lsn_stop="0/2000100", database_size=1, repo_size=1, pg_version="15",
)  # fmt: skip


def repo(
    newest: str | None = "000000010000000000000006", archive: WalArchive | Unavailable | None = None
) -> StanzaRepo:
    return StanzaRepo(
        stanza="main", config=None, settings=RepoSettings(key=1, type="posix", path="/repo"), status_code=0,
        status="ok", backups=(BACKUP,), archive=archive or WalArchive("15-1", "000000010000000000000001", newest, SEGMENT),
        pg_versions=("15",), cipher="none",
    )  # fmt: skip


def test_replay_ending_on_a_segment_boundary_reached_the_segment_before_it() -> None:
    replay = judge(repo(), BACKUP, "0/7000000", None, 1)
    assert replay.last_segment == "000000010000000000000006" and replay.missing is None


def test_replay_ending_early_names_the_next_segment() -> None:
    replay = judge(repo(), BACKUP, "0/40001A8", None, 1)
    assert replay.last_segment == "000000010000000000000004"
    assert replay.missing == "000000010000000000000005"


def test_the_missing_segment_is_on_the_timeline_recovery_was_on() -> None:
    replay = judge(repo("000000020000000000000009"), BACKUP, "0/5000000", None, 2)
    assert replay.missing == "000000020000000000000005"


def test_what_cannot_be_compared_says_why() -> None:
    assert judge(repo(), BACKUP, None, None, None).unknown is not None
    assert judge(repo(None), BACKUP, "0/7000000", None, 1).unknown is not None
    unread = judge(repo(archive=Unavailable("access denied")), BACKUP, "0/7000000", None, 1)
    assert unread.unknown is not None and "access denied" in unread.unknown
    assert judge(repo(), BACKUP, "not an lsn", None, 1).unknown is not None
