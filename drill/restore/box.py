"""The box that the programs reading a snapshot run in: pg_restore, psql and the scratch server.

A snapshot is hostile input, so nothing that reads it runs with drill's identity:

- **environment**: PATH, the C locale and the PG* variables that point at the scratch server;
  nothing of drill's own (no AWS_*, GOOGLE_*, config secrets, PGPASSWORD of the DSN);
- **working directory**: an empty private one, also HOME and TMPDIR; stdin is /dev/null;
- **user**: when drill is root, the scratch OS user (``[restore] run_as``) with no supplementary
  groups, never root;
- **network**: where the kernel allows it, a network namespace of its own in which no interface is
  up (util-linux ``unshare``: directly as root, inside a user namespace otherwise). The scratch
  server talks over a Unix socket, which a network namespace does not cut;
- **processes**: its own session, killed as a group when it ends; every process that still carries
  the box's marker variable (one that left the group with setsid) is killed too.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import os
import pwd
import secrets
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

MARKER_VARIABLE = "DRILL_BOX"
_SYSTEM_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
_UNSHARE_PLACES = "/usr/bin:/bin:/usr/sbin:/sbin"
_PROBE_TIMEOUT_SECONDS = 10.0
_SWEEP_ROUNDS = 5


class Network(enum.StrEnum):
    """How a boxed program reaches the network."""

    HOST = "host"  # the host's network: the kernel refused a namespace, or the dsn engine needs it
    NAMESPACE = "namespace"  # a network namespace with no interface up (drill is root)
    USER_NAMESPACE = "user namespace"  # the same, inside a user namespace (drill is not root)


@dataclass(frozen=True)
class Box:
    """How one drill starts the programs that read its snapshot. ``home`` must exist, empty."""

    home: Path
    account: pwd.struct_passwd | None = None  # the OS user to run as; None: drill's own
    network: Network = Network.HOST
    path: tuple[str, ...] = _SYSTEM_PATH
    marker: str = field(default_factory=lambda: secrets.token_hex(16))

    @classmethod
    def make(
        cls, home: Path, account: pwd.struct_passwd | None, *, isolate_network: bool, bin_dir: Path
    ) -> Box:
        """Create ``home`` (private to ``account``) and probe once whether the network can be cut."""
        home.mkdir(mode=0o700)
        if account is not None:
            os.chown(home, account.pw_uid, account.pw_gid)
        network = isolation_available(_uid_gid(account)) if isolate_network else Network.HOST
        return cls(home=home, account=account, network=network, path=(str(bin_dir), *_SYSTEM_PATH))

    def environ(self, variables: Mapping[str, str]) -> dict[str, str]:
        """The whole environment of a boxed program: the base, then ``variables`` (PG*, TZ)."""
        base = {
            "PATH": os.pathsep.join(self.path),
            "LC_ALL": "C",
            "LANG": "C",
            "HOME": str(self.home),
            "TMPDIR": str(self.home),
            MARKER_VARIABLE: self.marker,
        }
        if self.account is not None:
            base.update(USER=self.account.pw_name, LOGNAME=self.account.pw_name)
        return {**base, **variables}

    def argv(self, command: Sequence[str]) -> tuple[str, ...]:
        """``command`` wrapped in ``unshare`` when the network is cut (as root it also drops to the account)."""
        uid, gid = _uid_gid(self.account)
        return (
            *_wrapper(self.network, uid, gid, root=os.geteuid() == 0 and self.account is not None),
            *command,
        )

    def popen(
        self,
        command: Sequence[str],
        variables: Mapping[str, str],
        *,
        stdout: int | IO[bytes] | None = subprocess.DEVNULL,
        stderr: int | IO[bytes] | None = subprocess.PIPE,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``command`` in the box, in a session of its own. Raises OSError if it cannot start."""
        # unshare drops to the account itself as root (it needs root to make the namespace first).
        switch_user = self.account is not None and self.network is not Network.NAMESPACE
        return subprocess.Popen(
            self.argv(command),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            cwd=cwd or self.home,
            env=self.environ(variables),
            # A new session: Ctrl-C in the terminal reaches drill, which stops the box itself after
            # recording why, and the whole group can be killed at once.
            start_new_session=True,
            umask=0o077,
            user=self.account.pw_uid if switch_user and self.account else None,
            group=self.account.pw_gid if switch_user and self.account else None,
            extra_groups=[] if switch_user else None,
        )

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """Kill the process's group (pg_restore's parallel workers are in it), reap it, then sweep."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.sweep()

    def sweep(self) -> list[int]:
        """SIGKILL every process that carries this box's marker; returns their pids.

        A process that called setsid() has left the group, but not its environment: only drill
        started anything with this marker. Processes of other users drill cannot read are skipped.
        """
        needle = f"{MARKER_VARIABLE}={self.marker}".encode()
        killed: list[int] = []
        for _ in range(_SWEEP_ROUNDS):  # a process may fork while the previous round kills
            found = [pid for pid in _pids() if pid != os.getpid() and _carries(pid, needle)]
            if not found:
                break
            for pid in found:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            killed.extend(found)
        return killed


def _uid_gid(account: pwd.struct_passwd | None) -> tuple[int, int]:
    if account is not None:
        return account.pw_uid, account.pw_gid
    return os.geteuid(), os.getegid()


def _wrapper(network: Network, uid: int, gid: int, *, root: bool) -> tuple[str, ...]:
    if network is Network.HOST:
        return ()
    unshare = _unshare()
    assert unshare is not None  # isolation_available found it
    if network is Network.NAMESPACE:
        # unshare drops supplementary groups with --setgid, and every capability with --setuid.
        drop = ("--setgid", str(gid), "--setuid", str(uid)) if root else ()
        return (unshare, "--net", *drop, "--")
    return (unshare, f"--map-user={uid}", f"--map-group={gid}", "--net", "--")


def _unshare() -> str | None:
    return shutil.which("unshare", path=_UNSHARE_PLACES)


@functools.cache
def isolation_available(ids: tuple[int, int]) -> Network:
    """Which network namespace the kernel grants here, measured by entering one; HOST if none.

    Root may create one directly. Anyone else needs a user namespace first, which many container
    runtimes (Docker's default seccomp profile) and hardened kernels refuse: then the box keeps
    the host's network, and says so.
    """
    uid, gid = ids
    if _unshare() is None:
        return Network.HOST
    candidates = [Network.NAMESPACE] if os.geteuid() == 0 else [Network.USER_NAMESPACE]
    for network in candidates:
        probe = (*_wrapper(network, uid, gid, root=os.geteuid() == 0), "/bin/true")
        try:
            result = subprocess.run(
                probe,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=_PROBE_TIMEOUT_SECONDS,
                check=False,
                env={"PATH": _UNSHARE_PLACES, "LC_ALL": "C"},
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if result.returncode == 0:
            return network
    return Network.HOST


def _pids() -> list[int]:
    try:
        return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return []


def _carries(pid: int, needle: bytes) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return needle in environ.split(b"\0")
