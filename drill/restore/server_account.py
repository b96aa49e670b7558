"""Who the scratch server runs as: drill's own user, or ``[restore] run_as`` when drill is root
(initdb and postgres refuse root), with a clean environment either way."""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass

from drill.restore.binaries import RestoreSetupError


def server_account(run_as: str) -> pwd.struct_passwd | None:
    """None when drill is not root (the server runs as drill's own user); else ``run_as``."""
    if os.geteuid() != 0:
        return None
    try:
        account = pwd.getpwnam(run_as)
    except KeyError:
        raise RestoreSetupError(
            f"drill runs as root and initdb refuses root, so the scratch server runs as "
            f"[restore] run_as = {run_as!r}, but no such user exists. Create an unprivileged user "
            f"(e.g. useradd {run_as or 'postgres'}) or set [restore] run_as to an existing one."
        ) from None
    if account.pw_uid == 0:
        raise RestoreSetupError(
            f"[restore] run_as = {run_as!r} is root, and initdb refuses root; name an unprivileged user."
        )
    return account


@dataclass(frozen=True)
class ServerIds:
    """Popen's user, group and extra_groups: the account's, with root's supplementary groups dropped."""

    user: int | None
    group: int | None
    groups: list[int] | None

    @classmethod
    def of(cls, account: pwd.struct_passwd | None) -> ServerIds:
        if account is None:
            return cls(None, None, None)
        return cls(account.pw_uid, account.pw_gid, [])


def server_env(account: pwd.struct_passwd | None) -> dict[str, str]:
    """A clean environment: a PGDATA or PGPORT in drill's own must not steer the scratch cluster."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LC_ALL": "C",
        "LANG": "C",
        "TZ": os.environ.get("TZ", "UTC"),
    }
    if account is not None:
        env.update(HOME=account.pw_dir, USER=account.pw_name, LOGNAME=account.pw_name)
    return env


def user_note(account: pwd.struct_passwd | None) -> str:
    if account is None:
        return ""
    return (
        f" as user {account.pw_name} (drill is root; that user must be able to reach the work "
        "directory, so a work_dir under /root will not do)"
    )
