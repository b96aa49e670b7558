"""How far recovery got, read from the promoted server and set against the archive's newest segment.

Recovery to the end of the archive stops at the first segment it cannot fetch, promotes, and says
nothing more: a hole in the archive leaves a copy that starts and answers queries, without the
transactions after the hole. ``pg_last_wal_replay_lsn()`` stays at the position recovery
reached once it has ended, and the end-of-recovery checkpoint names the timeline it was on; the
segment after that position is the one recovery wanted next. If the archive held a newer
segment than the one recovery ended in, recovery stopped early, and that next segment is missing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import psycopg

from drill.facts import WalReplay
from drill.facts.pgbackrest import StanzaBackup, StanzaRepo, WalArchive
from drill.model import Unavailable
from drill.storage.pgbackrest.wal import Segment, parse_lsn, parse_segment, segment_before

_REPLAYED = """
SELECT pg_catalog.pg_last_wal_replay_lsn()::text, pg_catalog.pg_last_xact_replay_timestamp(),
       (SELECT prev_timeline_id FROM pg_catalog.pg_control_checkpoint())
"""


def read_replay(connection: psycopg.Connection[Any], repo: StanzaRepo, backup: StanzaBackup) -> WalReplay:
    """What recovery reached, compared with ``repo``'s archive as drill listed it."""
    row = connection.execute(_REPLAYED).fetchone()
    lsn, last_transaction, timeline = row if row is not None else (None, None, None)
    if isinstance(last_transaction, datetime) and last_transaction.tzinfo is None:
        last_transaction = last_transaction.replace(tzinfo=UTC)
    return judge(repo, backup, lsn, last_transaction, int(timeline) if timeline is not None else None)


def judge(
    repo: StanzaRepo,
    backup: StanzaBackup,
    lsn: str | None,
    last_transaction: datetime | None,
    timeline: int | None,
) -> WalReplay:
    archive = repo.archive
    newest = archive.newest if isinstance(archive, WalArchive) else None
    replay = WalReplay(
        stanza=repo.stanza,
        repo=repo.settings.key,
        backup=backup.label,
        backup_type=backup.type,
        backup_stopped_at=backup.stopped_at,
        pg_version=backup.pg_version,
        replayed_to=lsn,
        last_segment=None,
        archive_newest=newest,
        missing=None,
        last_transaction_at=last_transaction,
    )
    if isinstance(archive, Unavailable):
        return _unknown(replay, f"the archive could not be read: {archive.reason}")
    size = archive.segment_size
    if lsn is None or timeline is None:
        return _unknown(
            replay, "the server reports no replayed WAL position: it did not recover from the archive"
        )
    if size is None or newest is None:
        return _unknown(replay, "the archive's newest segment or its segment size is not known")
    try:
        last = segment_before(parse_lsn(lsn), timeline, size)
        held = parse_segment(newest, size)
    except ValueError as error:
        return _unknown(replay, str(error))
    last_name = last.name(size)
    if last.number >= held.number:
        return _with(replay, last_segment=last_name)
    return _with(replay, last_segment=last_name, missing=Segment(timeline, last.number + 1).name(size))


def _unknown(replay: WalReplay, reason: str) -> WalReplay:
    return _with(replay, unknown=reason)


def _with(replay: WalReplay, **changes: Any) -> WalReplay:
    return replace(replay, **changes)
