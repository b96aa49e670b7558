"""One restore drill of a physical backup: the latest backup of a stanza's repository, restored,
recovered to the end of its archive, and verified.

The stages are timed apart, since they answer different questions: ``restore`` (pgBackRest copies
the backup), ``replay`` (the server replays the WAL archive and promotes), ``verify`` (amcheck,
the configured checks, row counts, and ``pg_checksums`` on the stopped cluster). How far replay
got is compared with the archive (drill.restore.physical.replay); the time of the last replayed
transaction is how old the restored data is.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg

from drill.config import Database, RestoreSettings
from drill.facts import DrillOutcome, PageChecksums, Timings, Verification, WalReplay
from drill.facts.pgbackrest import StanzaBackup, StanzaRepo
from drill.model import Snapshot
from drill.restore.binaries import SYSTEM_PLACES, PgBinaries, RestoreSetupError, find_binaries
from drill.restore.bounds import BoundExceeded, DiskBudget
from drill.restore.physical.access import DatabaseMissing, prepare_restore_role, superuser_session
from drill.restore.physical.cluster import (
    Recovered,
    RecoveredCluster,
    RecoveryFailed,
    new_root,
    run_checksums,
)
from drill.restore.physical.layout import Layout, PgBackRestSetup
from drill.restore.physical.replay import read_replay
from drill.restore.server_account import server_account
from drill.restore.verify import verify
from drill.storage.pgbackrest.command import PgBackRest, PgBackRestFailed, find_program, passed_on
from drill.storage.pgbackrest.conf import ConfigUnreadable, read_stanza_config
from drill.storage.pgbackrest.stanza import stanza_secrets

# What a physical drill runs: no initdb, no pg_restore; pg_checksums for the page checksums.
PHYSICAL_TOOLS = ("postgres", "pg_checksums")
_WEB_IDENTITY = ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


def binaries_for(version: str | None, settings: RestoreSettings, environ: Mapping[str, str]) -> PgBinaries:
    """The server programs of the backup's major version: ``[restore] bin_dir`` if it is that
    version, else PATH, else the usual system places. RestoreSetupError naming the version needed."""
    if version is None:
        raise RestoreSetupError(
            "pgBackRest's info does not say which PostgreSQL version the backup was taken from."
        )
    head = version.split(".")[0]
    if not head.isdigit() or len(head) > 3:  # info's version is read from the repository: bounded
        raise RestoreSetupError(
            f"pgBackRest's info gives the backup's PostgreSQL version as {version[:20]!r}."
        )
    major = int(head)
    candidates = [settings.bin_dir] if settings.bin_dir else []
    candidates += [entry for entry in environ.get("PATH", "").split(os.pathsep) if entry]
    for pattern in SYSTEM_PLACES:
        anchor = Path(Path(pattern).anchor or ".")
        candidates += sorted(
            (str(path) for path in anchor.glob(str(Path(pattern).relative_to(anchor)))), reverse=True
        )
    seen: list[str] = []
    for candidate in candidates:
        try:
            found = find_binaries(Path(candidate), require=PHYSICAL_TOOLS)
        except RestoreSetupError:
            continue
        if found.major == major:
            return found
        if f"{found.bin_dir} ({found.major})" not in seen:
            seen.append(f"{found.bin_dir} ({found.major})")
    where = f"; found only {', '.join(seen)}" if seen else ""
    raise RestoreSetupError(
        f"The backup was taken from PostgreSQL {version}, and only a PostgreSQL {major} server recovers it: "
        f"no directory with its {', '.join(PHYSICAL_TOOLS)} was found in [restore] bin_dir, PATH or "
        f"{', '.join(SYSTEM_PLACES)}{where}. Install the PostgreSQL {major} server (on Debian: "
        f"apt-get install postgresql-{major}) or set [restore] bin_dir to its bin directory."
    )


def backup_snapshot(repo: StanzaRepo, backup: StanzaBackup) -> Snapshot:
    """The backup as the restore check names it: stanza/label, its size in the repository, its stop time."""
    return Snapshot(key=f"{repo.stanza}/{backup.label}", size=backup.repo_size, created_at=backup.stopped_at)


def drill_stanza(
    database: Database,
    source: str,
    repo: StanzaRepo,
    settings: RestoreSettings,
    environ: Mapping[str, str],
    *,
    keep: bool = False,
    backup_set: str | None = None,
) -> DrillOutcome:
    """Drill ``database`` from the latest backup (or ``backup_set``) in ``repo``, the copy named ``source``.

    A backup that does not restore, recover or verify is a failed outcome; a machine that cannot
    run the drill (no server of the backup's version, no pgBackRest, an unreadable config) raises
    RestoreSetupError.
    """
    started = time.monotonic()
    backup = (
        next((item for item in repo.backups if item.label == backup_set), None) if backup_set else repo.latest
    )
    if backup is None:
        wanted = f"backup {backup_set}" if backup_set else "a backup"
        return DrillOutcome(
            source,
            None,
            failed_stage="fetch",
            failure=f"Nothing to restore: repo{repo.settings.key} of stanza {repo.stanza} holds no {wanted}.",
        )
    snapshot = backup_snapshot(repo, backup)
    timings: dict[str, float] = {}

    def outcome(**fields: Any) -> DrillOutcome:
        timings["total_seconds"] = time.monotonic() - started
        return DrillOutcome(
            source,
            snapshot,
            dump_format="pgbackrest",
            dump_version=backup.pg_version,
            raw_bytes=backup.repo_size,
            timings=Timings(**timings),
            **fields,
        )

    try:
        cluster = _cluster(repo, backup, settings, environ, keep=keep)
    except BoundExceeded as exceeded:
        return outcome(failed_stage="restore", failure=str(exceeded))
    try:
        with cluster as recovered:
            timings.update(_stages(cluster.timings))
            verify_began = time.monotonic()
            try:
                replay, checksums_on = _recovered_state(recovered, repo, backup)
            except _LoginFailed as failed:
                return outcome(failed_stage="verify", failure=str(failed))
            verification: Verification | None = None
            problem: str | None = None
            try:
                verification = _verify(recovered, database, settings)
            except DatabaseMissing as missing:
                problem = f"{missing}."
            except psycopg.Error as error:  # a corrupt page fails the statement that reads it
                problem = f"verification of database {database.name!r} failed: {_first_line(error)}"
            checksums = _checksums(cluster, checksums_on, settings, keep=keep)
            timings["verify_seconds"] = time.monotonic() - verify_began
            return outcome(
                failed_stage="verify" if problem else None,
                failure=problem,
                verification=verification,
                replay=replay,
                checksums=checksums,
                kept=_hint(recovered, database.name) if keep else None,
            )
    except RecoveryFailed as failed:
        timings.update(_stages(cluster.timings))
        return outcome(failed_stage=failed.stage, failure=failed.reason)


def _cluster(
    repo: StanzaRepo,
    backup: StanzaBackup,
    settings: RestoreSettings,
    environ: Mapping[str, str],
    *,
    keep: bool,
) -> RecoveredCluster:
    """The restore of ``backup``, set up; BoundExceeded when it would not fit, RestoreSetupError when
    this machine cannot run it."""
    binaries = binaries_for(backup.pg_version, settings, environ)
    account = server_account(settings.run_as)
    try:
        config = read_stanza_config(repo.stanza, repo.config, environ)
        program = find_program(environ)
    except (ConfigUnreadable, PgBackRestFailed) as error:
        raise RestoreSetupError(str(error)) from None
    secrets = stanza_secrets(config, environ)
    root = new_root(settings.work_dir)
    budget = DiskBudget(root.parent, settings.max_expanded_size)
    size = f"Backup {backup.label} ({backup.database_size} bytes restored)"
    budget.check(0, size, coming=backup.database_size)
    web_identity = {name: value for name, value in passed_on(environ).items() if name in _WEB_IDENTITY}
    setup = PgBackRestSetup.of(
        program, config, repo.settings.key, Layout(root), jobs=settings.jobs, extra=web_identity
    )
    return RecoveredCluster(
        binaries,
        setup,
        account,
        budget,
        redact=PgBackRest(program, repo.stanza, repo.config, secrets=secrets).redact,
        backup_set=backup.label,
        timeout=settings.timeout.total_seconds(),
        isolate_network=repo.settings.local,
        keep=keep,
    )


def _checksums(
    cluster: RecoveredCluster, enabled: bool, settings: RestoreSettings, *, keep: bool
) -> PageChecksums:
    """``pg_checksums --check`` once the server is stopped; not while --keep leaves it running."""
    if not enabled:
        return PageChecksums(enabled=False)
    if keep:
        return PageChecksums(enabled=True, not_run="--keep leaves the server running")
    cluster.stop()
    status, report = run_checksums(
        cluster.binaries, cluster.layout.data, cluster.account, settings.timeout.total_seconds()
    )
    return PageChecksums(enabled=True, status=status, report=report)


class _LoginFailed(Exception):
    pass


def _recovered_state(recovered: Recovered, repo: StanzaRepo, backup: StanzaBackup) -> tuple[WalReplay, bool]:
    """How far replay got, and whether data checksums are on, read as the bootstrap superuser."""
    try:
        with psycopg.connect(
            superuser_session(recovered.conninfo("template1")), autocommit=True
        ) as connection:
            replay = read_replay(connection, repo, backup)
            row = connection.execute("SELECT pg_catalog.current_setting('data_checksums')").fetchone()
    except psycopg.OperationalError as error:
        raise _LoginFailed(
            f"drill could not log in to the recovered cluster as its bootstrap superuser "
            f"{recovered.superuser!r}: {_first_line(error)}"
        ) from None
    return replay, bool(row and row[0] == "on")


def _verify(recovered: Recovered, database: Database, settings: RestoreSettings) -> Verification:
    login = prepare_restore_role(recovered.conninfo(), database.name, recovered.binaries.major)
    return verify(
        recovered.conninfo(database.name, login.role),
        database,
        jobs=settings.jobs,
        heapallindexed=settings.heapallindexed,
        statement_timeout=settings.timeout.total_seconds(),
    )


def _hint(recovered: Recovered, dbname: str) -> str:
    return (
        f"The recovered server is still running (pid {recovered.pid}). Connect with: "
        f"psql -h {recovered.layout.socket} -p {recovered.port} -U {recovered.superuser} {dbname}\n"
        f"Stop it and delete its files with: kill -INT {recovered.pid} && rm -rf {recovered.layout.root}"
    )


def _stages(measured: Mapping[str, float]) -> dict[str, float]:
    return {name: measured[name] for name in ("restore_seconds", "replay_seconds") if name in measured}


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
