"""The name of the restored cluster's bootstrap superuser, read from its ``pg_authid`` file.

A physical backup carries its own roles, and drill must log in as one of them to prepare the
verification (the restore role, amcheck). The one role every cluster has is the bootstrap
superuser (OID 10), whose name initdb chose: usually ``postgres``, but not always. Nothing outside
the cluster states it, so drill reads it from ``global/1260`` (``pg_authid``, a shared catalog
with a fixed file) before the server starts: a heap file of 8 KiB pages, read within a bound and
parsed without trusting any offset in it. WAL replay could rename the role after the backup;
then logging in fails and the drill says so.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

PG_AUTHID = Path("global", "1260")
BOOTSTRAP_SUPERUSER_OID = 10
_PAGE = 8192
_PAGE_HEADER = 24
_TUPLE_HEADER = 23
_MAX_BYTES = 64 << 20  # pg_authid of a cluster with a million roles is far smaller
_NAME_BYTES = 64
_LP_NORMAL = 1
_XMAX_INVALID = 0x0800
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@$-]{0,62}$")


class SuperuserUnknown(Exception):
    """The bootstrap superuser's name could not be read; the message says why."""


def bootstrap_superuser(data_dir: Path) -> str:
    """The name of role OID 10 in the cluster in ``data_dir``; SuperuserUnknown if not readable."""
    path = data_dir / PG_AUTHID
    try:
        with path.open("rb") as stream:
            content = stream.read(_MAX_BYTES + 1)
    except OSError as error:
        raise SuperuserUnknown(f"{path} cannot be read: {error.strerror or error}.") from None
    if len(content) > _MAX_BYTES or len(content) % _PAGE:
        raise SuperuserUnknown(f"{path} is {len(content)} bytes, not a catalog of 8 KiB pages.")
    names = [
        name for offset in range(0, len(content), _PAGE) for name in _names(content[offset : offset + _PAGE])
    ]
    # A live version wins; an updated role (ALTER ROLE) leaves a dead one behind with the same name.
    live = [name for name, dead in names if not dead] or [name for name, _ in names]
    if not live:
        raise SuperuserUnknown(f"{path} holds no role with OID {BOOTSTRAP_SUPERUSER_OID}.")
    name = live[-1]
    if not _SAFE_NAME.match(name):
        raise SuperuserUnknown(f"the bootstrap superuser's name in {path} is not a plain role name.")
    return name


def _names(page: bytes) -> list[tuple[str, bool]]:
    """(name, dead) of each version of role OID 10 on one heap page."""
    lower, upper = struct.unpack_from("<HH", page, 12)
    size_version = struct.unpack_from("<H", page, 18)[0]
    if size_version & 0xFF00 != _PAGE or not _PAGE_HEADER <= lower <= upper <= _PAGE:
        return []  # a new (all-zero) page, or not a heap page: nothing to read
    found = []
    for slot in range(_PAGE_HEADER, lower - 3, 4):
        item = struct.unpack_from("<I", page, slot)[0]
        offset, flags, length = item & 0x7FFF, (item >> 15) & 0x3, item >> 17
        if flags != _LP_NORMAL or offset + length > _PAGE or length < _TUPLE_HEADER:
            continue
        xmax = struct.unpack_from("<I", page, offset + 4)[0]
        infomask = struct.unpack_from("<H", page, offset + 20)[0]
        data = offset + page[offset + 22]  # t_hoff: where the columns start
        if data + 4 + _NAME_BYTES > offset + length:
            continue
        # pg_authid's first columns: oid (4 bytes), then rolname (a 64-byte name).
        if struct.unpack_from("<I", page, data)[0] != BOOTSTRAP_SUPERUSER_OID:
            continue
        raw = page[data + 4 : data + 4 + _NAME_BYTES].split(b"\0", 1)[0]
        dead = xmax != 0 and not infomask & _XMAX_INVALID
        found.append((raw.decode("utf-8", "replace"), dead))
    return found
