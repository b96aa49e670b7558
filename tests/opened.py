"""What the kernel saw opened or read below a directory while a block ran, through inotify.

A test that must show drill did not read a file (one a symbolic link points to, outside the
target) asks the kernel rather than drill: every open and read of the directory, of any file in
it or in its subdirectories, by any process, is recorded. Stat and readlink are not opens.
"""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_IN_ACCESS = 0x001
_IN_OPEN = 0x020
_EVENT = struct.Struct("iIII")  # watch descriptor, mask, cookie, length of the name that follows


@contextmanager
def opened_below(directory: Path) -> Iterator[list[str]]:
    """The paths opened or read below ``directory`` during the block, filled in when it ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    descriptor = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if descriptor < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1")
    watched: dict[int, Path] = {}
    try:
        for folder in [directory, *(path for path in directory.rglob("*") if path.is_dir())]:
            watch = libc.inotify_add_watch(descriptor, bytes(folder), _IN_OPEN | _IN_ACCESS)
            if watch < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {folder}")
            watched[watch] = folder
        seen: list[str] = []
        yield seen
        seen.extend(_drained(descriptor, watched))
    finally:
        os.close(descriptor)


def _drained(descriptor: int, watched: dict[int, Path]) -> Iterator[str]:
    while True:
        try:
            data = os.read(descriptor, 1 << 16)
        except BlockingIOError:
            return
        offset = 0
        while offset < len(data):
            watch, _, _, length = _EVENT.unpack_from(data, offset)
            name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
            offset += _EVENT.size + length
            yield str(watched[watch] / os.fsdecode(name)) if name else str(watched[watch])
