"""Real PostgreSQL for the restore tests: the machine's own server binaries, never a fake server.

A missing install skips these tests on a workstation and fails them under CI (CI=true), where a
green run must not hide that nothing was tested.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drill.config import RestoreSettings, TargetType
from drill.restore.binaries import PgBinaries, RestoreSetupError, find_binaries
from drill.restore.bounds import DiskBudget
from drill.restore.fetch import Fetched, fetch
from drill.restore.runner import restore_into
from drill.restore.scratch import ScratchCluster, ScratchServer
from drill.storage.filesystem import FilesystemStore
from tests import factories

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def pg_binaries() -> PgBinaries:
    try:
        return find_binaries()
    except RestoreSetupError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI has no PostgreSQL server binaries: {error}")
        pytest.skip(f"no PostgreSQL server binaries on this machine: {error}")


@pytest.fixture
def work_dir() -> Iterator[Path]:
    """A private parent for scratch dirs. pytest's tmp_path sits under a root-only 0700 dir that the
    postgres user cannot reach, so this one lives in the system temp dir, searchable by all."""
    path = Path(tempfile.mkdtemp(prefix="drill-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for pid in postmasters_under(path):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def existing_server(pg_binaries: PgBinaries) -> Iterator[ScratchServer]:
    """A running server the DSN tests treat as someone else's existing scratch server."""
    parent = Path(tempfile.mkdtemp(prefix="drill-test-"))
    parent.chmod(0o755)
    try:
        with ScratchCluster(pg_binaries, work_dir=parent) as server:
            yield server
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that will never reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def postmasters_under(path: Path) -> list[int]:
    return [pid for pid in processes_mentioning(str(path)) if pid != os.getpid()]


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text(encoding="utf-8").split("\n", 1)[0])


# A drill-like process: the CLI turns SIGTERM into SystemExit, starts a cluster, reports it, and
# waits in the body until it is signalled.
_OWNER = textwrap.dedent(
    """
    import json, signal, sys, time
    from pathlib import Path
    from drill.restore.binaries import find_binaries
    from drill.restore.scratch import ScratchCluster

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    binaries = find_binaries(Path(sys.argv[1]))
    with ScratchCluster(binaries, work_dir=Path(sys.argv[2])) as server:
        print(json.dumps({"root": str(server.root), "pid": server.pid}), flush=True)
        time.sleep(120)
    """
)


class Owner:
    """A separate process that owns a scratch cluster, for the tests that signal or kill it."""

    def __init__(self, binaries: PgBinaries, work_dir: Path) -> None:
        self.process = subprocess.Popen(
            (sys.executable, "-c", _OWNER, str(binaries.bin_dir), str(work_dir)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            raise AssertionError(f"the owner process did not start a cluster: {self.process.stderr.read()}")  # type: ignore[union-attr]
        started = json.loads(line)
        self.root = Path(started["root"])
        self.postmaster = int(started["pid"])

    def wait(self, timeout: float = 30.0) -> int:
        status = self.process.wait(timeout=timeout)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return status


def handed_over(path: Path, parent: Path) -> Path:
    """A copy of ``path`` (a file, or a directory dump) alone in a fresh dir under ``parent``, as a
    download dir holds a dump; the dir can be reached by the scratch OS user."""
    into = Path(tempfile.mkdtemp(dir=parent))
    into.chmod(0o755)
    copy = into / path.name
    if path.is_dir():
        shutil.copytree(path, copy)
    else:
        shutil.copyfile(path, copy)
    return copy


def fetch_local(file: Path, parent: Path, budget: DiskBudget | None = None) -> Fetched:
    """``file`` fetched as the runner fetches a snapshot (unwrapped, unpacked, within ``budget``),
    from a filesystem target, into a fresh download dir under ``parent``."""
    store = FilesystemStore(factories.target(type=TargetType.FILESYSTEM, path=str(file.parent)))
    snapshot = store.stat(file.name)
    assert snapshot is not None
    destination = Path(tempfile.mkdtemp(dir=parent))
    destination.chmod(0o755)
    return fetch(store, snapshot, destination, budget=budget)


@dataclass(frozen=True)
class Scratch:
    """The module's scratch cluster, and a restore into it as the runner restores."""

    server: ScratchServer
    binaries: PgBinaries
    directory: Path

    def restore(self, snapshot: Path, name: str, **settings: Any) -> str:
        """Fetch ``snapshot`` and restore it as the runner does; DrillFailed when the snapshot fails."""
        fetched = fetch_local(snapshot, self.directory)
        download_dir = fetched.path.parents[1] if fetched.info.tarred_directory else fetched.path.parent
        database, _ = restore_into(
            self.server,
            fetched.path,
            fetched.info,
            name,
            download_dir=download_dir,
            settings=RestoreSettings(work_dir=str(self.directory), **settings),
            binaries=self.binaries,
        )
        return database


@pytest.fixture(scope="module")
def scratch(pg_binaries: PgBinaries) -> Iterator[Scratch]:
    """One scratch cluster for a module, in a dir the scratch OS user can reach."""
    parent = Path(tempfile.mkdtemp(prefix="drill-test-"))
    parent.chmod(0o755)
    try:
        with ScratchCluster(pg_binaries, work_dir=parent) as running:
            yield Scratch(running, pg_binaries, parent)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def wait_until(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False
