"""One restore drill of one database: fetch the newest snapshot, restore it into scratch, verify.

The snapshot is hostile input from its first byte to its last: it is fetched within the disk
budget (drill.restore.bounds), read for what it needs without running any of it
(drill.restore.plan), restored by pg_restore or psql in the box (drill.restore.box) as the restore
role (drill.restore.access), and verified in that role (drill.restore.verify).

Everything that starts something is a context manager, so the scratch server, the download
directory and any child process are gone on every way out: success, a failed restore, Ctrl-C
or SIGTERM (the CLI turns SIGTERM into SystemExit). The scratch server is started while the
snapshot downloads, since neither needs the other.
"""

from __future__ import annotations

import os
import pwd
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg

from drill.config import RestoreEngine, RestoreSettings
from drill.facts import DatabaseFacts, DatabaseTargetFacts, DrillOutcome, Timings
from drill.model import Unavailable
from drill.restore import pgrestore
from drill.restore.access import ExtensionRefused, prepare
from drill.restore.archive_header import NotADumpError, TruncatedDumpError
from drill.restore.binaries import PgBinaries, RestoreSetupError
from drill.restore.bounds import BoundExceeded, DiskBudget, GrowthWatch
from drill.restore.box import Box
from drill.restore.compatibility import restorable_by
from drill.restore.dsn import DsnScratch
from drill.restore.fetch import Fetched, FetchError, fetch
from drill.restore.formats import DumpFormat, DumpInfo
from drill.restore.owners import FETCH_PREFIX, mark_owned
from drill.restore.plan import plan_restore
from drill.restore.scratch import ScratchCluster, ScratchTarget
from drill.restore.server_account import server_account
from drill.restore.toc import UnsafeDumpError
from drill.restore.verify import verify
from drill.storage import StorageError, open_store

Progress = Callable[[str, int], Callable[[int], None]]  # (label, total bytes) -> advance(bytes)
# pg_restore's words for an archive whose data stops before its table of contents says it should.
_ENDS_EARLY = ("end of file", "unexpected end of file", "could not find block ID")
_DUMP_PROBLEMS = (FetchError, NotADumpError, TruncatedDumpError, StorageError, BoundExceeded)
_UNSAFE = (UnsafeDumpError, NotADumpError, TruncatedDumpError)


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


class DrillFailed(Exception):
    """The drill fails at ``stage``, for ``reason``: the snapshot's fault, not drill's."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


def _hand_over(download_dir: Path, account: pwd.struct_passwd | None) -> None:
    """Let the scratch OS user read the dump (drill is root; the boxed tools run as that user).

    Everything under the download dir was written by drill itself; unpacking refused links.
    """
    if account is None:
        return
    for directory, _, files in os.walk(download_dir):
        for path in (Path(directory), *(Path(directory, file) for file in files)):
            os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)


def restore_into(
    target: ScratchTarget,
    dump: Path,
    info: DumpInfo,
    name: str,
    *,
    download_dir: Path,
    settings: RestoreSettings,
    binaries: PgBinaries,
) -> tuple[str, pgrestore.Restored]:
    """Read what ``dump`` (in ``download_dir``, which drill made) needs, prepare a database for it
    on ``target`` and restore it there in the box, as the restore role. Raises DrillFailed when
    the snapshot fails, RestoreSetupError when drill cannot do its part."""
    account = server_account(settings.run_as)  # the boxed tools' OS user when drill is root
    try:
        plan = plan_restore(dump, info, binaries.version)
    except _UNSAFE as problem:
        raise DrillFailed("format", str(problem)) from None
    database = target.database_for(name)
    try:
        prepared = prepare(
            target.conninfo(database),
            target.login,
            database=database,
            roles=plan.roles,
            extensions=plan.extensions,
            allowed=settings.allowed_extensions,
            may_create_schemas=plan.format is not DumpFormat.PLAIN,
        )
    except ExtensionRefused as refused:
        raise DrillFailed("restore", str(refused)) from None
    except psycopg.Error as error:
        raise RestoreSetupError(
            f"drill could not prepare the scratch database for the restore role: {error}"
        ) from None
    target.adopt_roles(prepared.stand_ins)
    _hand_over(download_dir, account)
    box = Box.make(
        download_dir / "home",
        account,
        isolate_network=settings.engine is RestoreEngine.EMBEDDED,
        bin_dir=binaries.bin_dir,
    )
    arguments = pgrestore.command(
        binaries,
        plan.format,
        plan.path,
        database,
        settings.jobs,
        use_list=plan.use_list(box.home, prepared.own_schemas),
    )
    root = target.disk_root
    watch = GrowthWatch(root, DiskBudget(root, settings.max_expanded_size)) if root is not None else None
    try:
        restored = pgrestore.run(
            arguments, box, target.env(target.login), timeout=settings.timeout.total_seconds(), watch=watch
        )
    except pgrestore.RestoreFailed as failure:
        reason = str(failure)
        if any(sign in reason for sign in _ENDS_EARLY):
            reason = f"the dump ends early (a truncated upload?): {reason}"
        raise DrillFailed("restore", reason) from None
    return database, restored


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
    server_account(settings.run_as)  # as root, a missing user is a setup error before any download
    with ExitStack() as stack:
        download_dir = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix=FETCH_PREFIX, dir=work_dir))
        )
        mark_owned(download_dir)  # a SIGKILLed run's download is swept at the next start
        budget = DiskBudget(download_dir, settings.max_expanded_size)
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
                fetched: Fetched = fetch(
                    store, snapshot, download_dir, expected=sidecar, progress=advance, budget=budget
                )
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

        try:
            database, restored = restore_into(
                target,
                fetched.path,
                fetched.info,
                facts.database.name,
                download_dir=download_dir,
                settings=settings,
                binaries=binaries,
            )
        except DrillFailed as failed:
            return outcome(failed_stage=failed.stage, failure=failed.reason, **described)
        timings["restore_seconds"] = restored.seconds

        verify_started = time.monotonic()
        verification = verify(
            target.conninfo(database, target.login),
            facts.database,
            jobs=settings.jobs,
            heapallindexed=settings.heapallindexed,
            statement_timeout=settings.timeout.total_seconds(),
        )
        timings["verify_seconds"] = time.monotonic() - verify_started
        return outcome(
            verification=verification, kept=target.connect_hint(database) if keep else None, **described
        )
