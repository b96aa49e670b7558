"""The scratch directory of a physical restore, and drill's own configuration for what runs in it.

A restored data directory is the backup's: its ``postgresql.conf`` may load libraries, include
files from anywhere, turn on TLS with keys that are not here or archive into the production
repository, and its ``postgresql.auto.conf`` is read even under a ``config_file`` override. So
the server is started with drill's own ``postgresql.conf``, ``pg_hba.conf`` and ``pg_ident.conf``,
kept outside the data directory, and the backup's ``postgresql.auto.conf`` is replaced by an
empty one; nothing of the backup's configuration is read.

pgBackRest gets a config of drill's too: only the repository's own options (where it is, its
cipher type, its TLS settings), never the stanza's ``pg1-path`` (the production data directory),
link or tablespace maps, or a ``[global:restore]`` section. Secrets (the cipher passphrase, S3
keys) go in the environment of the programs that need them, never in a file or a command line.
"""

from __future__ import annotations

import os
import pwd
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from drill.restore.scratch import _quoted
from drill.storage.pgbackrest.conf import StanzaConfig

# The recovered server's settings. Durability buys nothing in a cluster deleted minutes later.
# hot_standby stays off: it would refuse to start where max_connections and friends are lower
# than the primary's, and no query needs to run before recovery ends.
SERVER_SETTINGS: Mapping[str, str] = {
    "listen_addresses": "''",
    "unix_socket_permissions": "0700",
    "ssl": "off",
    "archive_mode": "off",
    "hot_standby": "off",
    "shared_preload_libraries": "''",
    "session_preload_libraries": "''",
    "local_preload_libraries": "''",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "autovacuum": "off",
    "max_wal_senders": "0",
    "max_replication_slots": "0",
    "wal_level": "replica",
    "shared_buffers": "256MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "1d",
    "logging_collector": "off",
    "log_min_messages": "log",
    "log_min_error_statement": "panic",
    "log_checkpoints": "off",
    "recovery_target_timeline": "'latest'",
}
# Files of the backup that would steer the recovered server away from drill's intent: a standby
# signal keeps it in recovery forever, and a recovery.conf makes PostgreSQL 12+ refuse to start.
_STEERING_FILES = ("standby.signal", "recovery.conf")
_EVENT_TRIGGERS_SETTING = 17  # the first major with the event_triggers setting


@dataclass(frozen=True)
class Layout:
    """Where everything of one physical restore lives, all under ``root``."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def tablespaces(self) -> Path:
        return self.root / "tablespaces"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def socket(self) -> Path:
        return self.root / "socket"

    @property
    def pgbackrest_dir(self) -> Path:
        return self.root / "pgbackrest"

    @property
    def pgbackrest_conf(self) -> Path:
        return self.pgbackrest_dir / "pgbackrest.conf"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def home(self) -> Path:
        return self.root / "home"

    def make(self, account: pwd.struct_passwd | None) -> None:
        """The directories, private to the scratch OS user (the data dir pgBackRest creates 0700)."""
        for directory in (self.data, self.tablespaces, self.config, self.socket, self.pgbackrest_dir):
            directory.mkdir(mode=0o700)
        (self.pgbackrest_dir / "include").mkdir(mode=0o700)
        if account is not None:
            for path in (self.root, *self.root.rglob("*")):
                os.chown(path, account.pw_uid, account.pw_gid)


@dataclass(frozen=True)
class PgBackRestSetup:
    """drill's pgBackRest config for one repository of one stanza, and the variables with its secrets."""

    program: Path
    stanza: str
    repo: int
    layout: Layout
    jobs: int
    options: Mapping[str, str]  # the repository's options, without the "repoN-" prefix; no secret
    variables: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        program: Path,
        config: StanzaConfig,
        repo: int,
        layout: Layout,
        *,
        jobs: int,
        extra: Mapping[str, str],
    ) -> PgBackRestSetup:
        secrets = {
            f"PGBACKREST_REPO{repo}_{option.upper().replace('-', '_')}": value
            for option, value in config.secrets.of(repo).items()
        }
        return cls(
            program,
            config.stanza,
            repo,
            layout,
            jobs,
            dict(config.repo_options.get(repo, {})),
            {**extra, **secrets},
        )

    def write(self, account: pwd.struct_passwd | None) -> None:
        work = self.layout.pgbackrest_dir
        lines = [
            "[global]",
            f"lock-path={work}",
            f"log-path={work}",
            f"spool-path={work}",
            "log-level-file=off",
            "log-level-console=off",
            "log-level-stderr=warn",
            f"process-max={self.jobs}",
            f"[{self.stanza}]",
            f"pg1-path={self.layout.data}",
            *(f"repo{self.repo}-{option}={value}" for option, value in sorted(self.options.items())),
        ]
        _write(self.layout.pgbackrest_conf, "\n".join(lines) + "\n", account)

    def command(self, name: str, *options: str) -> tuple[str, ...]:
        # --config-include-path: with --config alone pgBackRest would still read its default conf.d.
        return (
            str(self.program),
            f"--config={self.layout.pgbackrest_conf}",
            f"--config-include-path={self.layout.pgbackrest_dir / 'include'}",
            f"--stanza={self.stanza}",
            f"--repo={self.repo}",
            *options,
            name,
        )

    def restore_command(self) -> str:
        return shlex.join(self.command("archive-get")) + ' %f "%p"'


def write_server_config(
    layout: Layout, port: int, restore_command: str, account: pwd.struct_passwd | None, *, major: int
) -> Path:
    """drill's postgresql.conf, pg_hba.conf and pg_ident.conf; the backup's auto.conf emptied."""
    settings = {
        **SERVER_SETTINGS,
        # PostgreSQL 17 runs login event triggers as the role logging in, drill's superuser included.
        **({"event_triggers": "off"} if major >= _EVENT_TRIGGERS_SETTING else {}),
        "data_directory": _quoted(str(layout.data)),
        "hba_file": _quoted(str(layout.config / "pg_hba.conf")),
        "ident_file": _quoted(str(layout.config / "pg_ident.conf")),
        "port": str(port),
        "unix_socket_directories": _quoted(str(layout.socket)),
        "restore_command": _quoted(restore_command),
    }
    conf = layout.config / "postgresql.conf"
    _write(
        conf,
        "# drill: a recovered backup, thrown away after its drill\n"
        + "".join(f"{name} = {value}\n" for name, value in settings.items()),
        account,
    )
    # Only the scratch OS user reaches the socket (0700 dir and socket): every role may log in,
    # which drill needs, since the roles are the backup's.
    _write(layout.config / "pg_hba.conf", "local all all trust\n", account)
    _write(layout.config / "pg_ident.conf", "", account)
    _write(layout.data / "postgresql.auto.conf", "# drill: the backup's settings are not read\n", account)
    for name in _STEERING_FILES:
        (layout.data / name).unlink(missing_ok=True)
    return conf


def _write(path: Path, text: str, account: pwd.struct_passwd | None) -> None:
    path.unlink(missing_ok=True)  # never write through a link the backup put there
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)
