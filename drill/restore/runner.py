"""One restore drill of one database: fetch the newest snapshot, restore it into scratch, verify.

Everything that starts something is a context manager, so the scratch server, the download
directory and any child process are gone on every way out: success, a failed restore, Ctrl-C
or SIGTERM (the CLI turns SIGTERM into SystemExit). The scratch server is started while the
snapshot downloads, since neither needs the other.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from drill.config import RestoreEngine, RestoreSettings
from drill.facts import DatabaseFacts, DatabaseTargetFacts, DrillOutcome, Timings
from drill.model import Unavailable
from drill.restore import pgrestore
from drill.restore.archive_header import NotADumpError, TruncatedDumpError
from drill.restore.binaries import PgBinaries
from drill.restore.compatibility import restorable_by
from drill.restore.dsn import DsnScratch
from drill.restore.fetch import Fetched, FetchError, fetch
from drill.restore.formats import DumpFormat
from drill.restore.owners import FETCH_PREFIX, mark_owned
from drill.restore.scratch import ScratchCluster, ScratchTarget
from drill.restore.verify import verify
from drill.storage import StorageError, open_store

Progress = Callable[[str, int], Callable[[int], None]]  # (label, total bytes) -> advance(bytes)
# pg_restore's words for an archive whose data stops before its table of contents says it should.
_ENDS_EARLY = ("end of file", "unexpected end of file", "could not find block ID")
_DUMP_PROBLEMS = (FetchError, NotADumpError, TruncatedDumpError, StorageError)


def choose_source(facts: DatabaseFacts) -> DatabaseTargetFacts | None:
    """``restore_from`` if set; else the first target, in config order, that holds the newest snapshot."""
    readable = [
        copy
        for copy in facts.copies
        if not isinstance(copy.listing, Unavailable) and copy.listing.latest is not None
    ]
    if facts.database.restore_from:
        return next((copy for copy in readable if copy.target.name == facts.database.restore_from), None)
    if not readable:
        return None

    def newest(copy: DatabaseTargetFacts) -> float:
        assert not isinstance(copy.listing, Unavailable) and copy.listing.latest is not None
        return copy.listing.latest.created_at.timestamp()

    latest = max(newest(copy) for copy in readable)
    return next(copy for copy in readable if newest(copy) == latest)


def scratch_for(
    settings: RestoreSettings, binaries: PgBinaries, environ: Mapping[str, str], keep: bool
) -> AbstractContextManager[ScratchTarget]:
    if settings.engine is RestoreEngine.DSN:
        assert settings.dsn_env is not None  # validated with the config
        return DsnScratch(environ[settings.dsn_env], keep=keep)
    work_dir = Path(settings.work_dir) if settings.work_dir else None
    return ScratchCluster(binaries, work_dir=work_dir, run_as=settings.run_as, keep=keep)


@contextmanager
def _started(scratch: AbstractContextManager[ScratchTarget], stack: ExitStack) -> Iterator[Any]:
    """Start the scratch server in the background; the body downloads meanwhile."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="drill-scratch") as pool:
        starting = pool.submit(scratch.__enter__)
        try:
            yield starting
        finally:
            # Whatever the body did, a server that came up must be stopped when the stack unwinds.
            if starting.exception() is None:
                stack.push(scratch)
            # else: it cleaned up after its own failed start; the caller sees the error on .result()


def _create_roles(target: ScratchTarget, roles: set[str]) -> None:
    """Plain dumps name their owners; a throwaway cluster gets them as roles that cannot log in.

    They are superusers of the throwaway cluster, because a dump made with
    ``--use-set-session-authorization`` creates each object as its owner, which then needs every
    privilege the original owner held; the cluster and its roles are deleted after the drill.
    """
    with psycopg.connect(target.conninfo(), autocommit=True) as connection:
        existing = {row[0] for row in connection.execute("SELECT rolname FROM pg_roles")}
        for role in sorted(roles - existing):
            connection.execute(sql.SQL("CREATE ROLE {} NOLOGIN SUPERUSER").format(sql.Identifier(role)))


def drill_database(
    facts: DatabaseFacts,
    settings: RestoreSettings,
    binaries: PgBinaries,
    environ: Mapping[str, str],
    *,
    keep: bool = False,
    progress: Progress | None = None,
) -> DrillOutcome:
    """Drill one database. A bad dump is a failed outcome; a broken setup raises RestoreSetupError."""
    source = choose_source(facts)
    if source is None:
        reason = (
            f"target {facts.database.restore_from} holds no readable snapshot"
            if facts.database.restore_from
            else "no target holds a readable snapshot"
        )
        return DrillOutcome(None, None, failed_stage="fetch", failure=f"Nothing to restore: {reason}.")
    assert not isinstance(source.listing, Unavailable) and source.listing.latest is not None
    snapshot = source.listing.latest
    sidecar = source.sidecar if not isinstance(source.sidecar, Unavailable) else None
    started = time.monotonic()
    timings: dict[str, float] = {}

    def outcome(**fields: Any) -> DrillOutcome:
        timings["total_seconds"] = time.monotonic() - started
        return DrillOutcome(source.target.name, snapshot, timings=Timings(**timings), **fields)

    work_dir = settings.work_dir
    with ExitStack() as stack:
        download_dir = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix=FETCH_PREFIX, dir=work_dir))
        )
        mark_owned(download_dir)  # a SIGKILLed run's download is swept at the next start
        store = open_store(source.target, environ)
        stack.callback(store.close)
        scratch = scratch_for(settings, binaries, environ, keep)
        with _started(scratch, stack) as starting:
            advance = (
                progress(f"{facts.database.name} <- {source.target.name}", snapshot.size)
                if progress
                else None
            )
            try:
                fetched: Fetched = fetch(store, snapshot, download_dir, expected=sidecar, progress=advance)
            except _DUMP_PROBLEMS as problem:
                return outcome(failed_stage="fetch", failure=f"{snapshot.key}: {problem}")
            finally:
                timings["download_seconds"] = time.monotonic() - started
            waiting = time.monotonic()
            target: ScratchTarget = starting.result()  # RestoreSetupError if the server never came up
            timings["server_wait_seconds"] = time.monotonic() - waiting
        described = {
            "dump_format": fetched.info.format.value,
            "dump_version": fetched.info.dump_version,
            "raw_bytes": fetched.raw_bytes,
        }
        refusal = restorable_by(fetched.info, binaries.major)
        if refusal:
            return outcome(failed_stage="format", failure=refusal, **described)

        database = target.database_for(facts.database.name)
        if fetched.info.format is DumpFormat.PLAIN and settings.engine is RestoreEngine.EMBEDDED:
            _create_roles(target, pgrestore.roles_named(fetched.path))
        try:
            restored = pgrestore.run(
                binaries,
                fetched.info.format,
                fetched.path,
                database,
                target.env(),
                jobs=settings.jobs,
                timeout=settings.timeout.total_seconds(),
            )
        except pgrestore.RestoreFailed as failure:
            reason = str(failure)
            if any(sign in reason for sign in _ENDS_EARLY):
                reason = f"the dump ends early (a truncated upload?): {reason}"
            return outcome(failed_stage="restore", failure=reason, **described)
        timings["restore_seconds"] = restored.seconds

        verify_started = time.monotonic()
        verification = verify(
            target.conninfo(database),
            facts.database,
            jobs=settings.jobs,
            heapallindexed=settings.heapallindexed,
        )
        timings["verify_seconds"] = time.monotonic() - verify_started
        return outcome(
            verification=verification, kept=target.connect_hint(database) if keep else None, **described
        )
