"""The walk over an agent's files: bounded, each file and directory once, symlinks only within the
scanned roots, binaries and large files counted and skipped; each file read is handed to ``search``."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from drill.config import Agent
from drill.facts import CredentialSighting, Exposure, ScanStats
from drill.names import escape_name
from drill.trust.exposure.known import MAX_FILE_BYTES, KnownCredentials
from drill.trust.exposure.search import Finder

MAX_FILES = 20_000

_BINARY_PROBE = 8192  # a NUL byte in this many leading bytes marks a binary, as git and grep do
# (parent directory, directory): compressed object stores of version control, never plain text.
_VCS_INTERNALS = frozenset(
    {(".git", "objects"), (".git", "lfs"), (".hg", "store"), (".svn", "pristine"), (".bzr", "repository")}
)
_PSEUDO_FILESYSTEMS = frozenset({"/proc", "/sys", "/dev"})
_PSEUDO_NAMES = frozenset(Path(path).name for path in _PSEUDO_FILESYSTEMS)
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a FIFO never hangs


def _name(path: str) -> str:
    """The last component; a string split, since the walk handles every path as a string (speed)."""
    return path.rpartition(os.sep)[2]


def _pseudo_filesystem(path: str) -> bool:
    """/proc, /sys and /dev hold no files an agent wrote, and /proc/self/environ holds drill's own
    environment, which would be "found" as a backup secret: a walk from / must not enter them."""
    return _name(path) in _PSEUDO_NAMES and os.path.realpath(path) in _PSEUDO_FILESYSTEMS


class _Scan:
    """The state of one agent's scan: counters, sightings, and what was already visited."""

    def __init__(
        self,
        known: KnownCredentials,
        *,
        trees: tuple[str, ...],
        env_file: str | None,
        max_file_bytes: int,
        max_files: int,
    ) -> None:
        self.finder = Finder(known)
        self.trees = tuple(tree if tree.endswith(os.sep) else tree + os.sep for tree in trees)
        self.tree_roots = frozenset(trees)
        self.env_file = env_file
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.visited: set[tuple[int, int]] = set()
        self.sightings: list[CredentialSighting] = []
        self.unreadable: list[str] = []
        self.files_seen = 0
        self.files_scanned = 0
        self.bytes_scanned = 0
        self.skipped_binary = 0
        self.skipped_large = 0
        self.skipped_symlinks = 0
        self.truncated = False

    def inside(self, real: str) -> bool:
        return real in self.tree_roots or real.startswith(self.trees)

    def root(self, path: str) -> None:
        """Scan one configured root. Listing a directory root can raise OSError: then nothing
        about this root is known, and the caller reports the whole scan as unavailable."""
        info = Path(path).stat()
        if not stat.S_ISDIR(info.st_mode):
            self.file(path, os.path.realpath(path))
            return
        if self.enter(path, info) is not None:  # None: inside a root already walked
            self.directory(path, root=True)

    def directory(self, top: str, *, root: bool) -> None:
        pending = [top]
        while pending and not self.truncated:
            current = pending.pop()
            try:
                with os.scandir(current) as listing:
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError:
                if root and current == top:
                    raise
                self.unreadable.append(escape_name(current))
                continue
            parent = _name(current)
            subdirectories: list[str] = []
            for entry in entries:
                if self.truncated:
                    break
                try:
                    subdirectory = self.entry(entry, parent)
                except OSError:  # vanished or denied between the listing and now
                    self.unreadable.append(escape_name(entry.path))
                    continue
                if subdirectory:
                    subdirectories.append(subdirectory)
            pending.extend(reversed(subdirectories))  # depth first, in name order

    def entry(self, entry: os.DirEntry[str], parent: str) -> str | None:
        """Handle one directory entry; returns a directory still to walk."""
        if entry.is_symlink():
            real = os.path.realpath(entry.path)
            if not self.inside(real):
                self.skipped_symlinks += 1
                return None
            try:
                info = Path(real).stat()
            except FileNotFoundError:  # a dangling link inside the tree: there is nothing to read
                return None
            if stat.S_ISDIR(info.st_mode):
                return None if _pseudo_filesystem(real) else self.enter(entry.path, info)
            if stat.S_ISREG(info.st_mode):
                self.file(entry.path, real)
            return None
        if entry.is_dir(follow_symlinks=False):
            if (parent, entry.name) in _VCS_INTERNALS or _pseudo_filesystem(entry.path):
                return None
            return self.enter(entry.path, entry.stat(follow_symlinks=False))
        if entry.is_file(follow_symlinks=False):
            self.file(entry.path, entry.path)
        return None  # sockets, FIFOs and devices hold no file content

    def enter(self, path: str, info: os.stat_result) -> str | None:
        identity = (info.st_dev, info.st_ino)
        if identity in self.visited:  # a link back into the walk: followed once, so loops end
            return None
        self.visited.add(identity)
        return path

    def file(self, path: str, real: str) -> None:
        if self.files_seen >= self.max_files:
            self.truncated = True
            return
        self.files_seen += 1
        data = self.read(path, real)
        if data is None:
            return
        self.files_scanned += 1
        self.bytes_scanned += len(data)
        env_style = self.is_env_file(real)
        # The path is reported; a name that is not UTF-8 or holds control characters must not break
        # the outputs (drill.names). The raw name still decides what kind of file it is.
        self.sightings.extend(self.finder.search(escape_name(path), _name(path), data, env_style=env_style))

    def is_env_file(self, real: str) -> bool:
        if self.env_file is None or _name(real) != _name(self.env_file):
            return False
        return os.path.realpath(real) == self.env_file

    def read(self, path: str, real: str) -> bytes | None:
        """The file's content, or None when it is skipped (counted) or unreadable (listed)."""
        try:
            descriptor = os.open(real, _OPEN_FLAGS)
        except OSError:
            self.unreadable.append(escape_name(path))
            return None
        try:
            with os.fdopen(descriptor, "rb") as stream:
                info = os.fstat(descriptor)
                identity = (info.st_dev, info.st_ino)
                if not stat.S_ISREG(info.st_mode) or identity in self.visited:
                    return None
                self.visited.add(identity)
                if info.st_size > self.max_file_bytes:
                    self.skipped_large += 1
                    return None
                head = stream.read(_BINARY_PROBE)
                if b"\0" in head:
                    self.skipped_binary += 1
                    return None
                data = head + stream.read(self.max_file_bytes + 1 - len(head))
        except OSError:
            self.unreadable.append(escape_name(path))
            return None
        if len(data) > self.max_file_bytes:  # it grew since fstat
            self.skipped_large += 1
            return None
        return data

    def stats(self, seconds: float) -> ScanStats:
        return ScanStats(
            files_scanned=self.files_scanned,
            bytes_scanned=self.bytes_scanned,
            skipped_binary=self.skipped_binary,
            skipped_large=self.skipped_large,
            skipped_symlinks=self.skipped_symlinks,
            truncated=self.truncated,
            unreadable=tuple(self.unreadable),
            seconds=seconds,
        )


def scan(
    agent: Agent,
    known: KnownCredentials,
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_files: int = MAX_FILES,
) -> Exposure:
    """Scan the agent's ``paths`` and ``env_file``; a file root is scanned as one file.

    Raises OSError only when a directory root itself cannot be listed; everything below a root
    that cannot be read is listed in ``stats.unreadable``.
    """
    started = time.monotonic()
    configured = dict.fromkeys((*agent.paths, *((agent.env_file,) if agent.env_file else ())))
    existing = tuple(path for path in configured if Path(path).exists())
    missing = tuple(path for path in configured if path not in existing)
    walk = _Scan(
        known,
        trees=tuple(os.path.realpath(path) for path in existing),
        env_file=os.path.realpath(agent.env_file) if agent.env_file else None,
        max_file_bytes=max_file_bytes,
        max_files=max_files,
    )
    for path in existing:
        if walk.truncated:
            break
        walk.root(path)
    return Exposure(
        scanned=existing,
        missing=missing,
        sightings=tuple(walk.sightings),
        stats=walk.stats(time.monotonic() - started),
    )
