"""Hostile snapshots, built by the tests themselves from real pg_dump output.

Each one tries what the security model says a snapshot cannot do (docs/security.md, "What a
hostile snapshot cannot do"): run a command (psql ``\\!``, ``COPY ... TO PROGRAM`` as the server's
OS user), leave a process behind, reach another server (``\\connect``), read a file outside the
dump (``pg_read_file``, a ``..`` name in a directory dump's toc.dat, a symlink member), have drill
call its functions while verifying, or fill the disk (gzip and zstd bombs). Every attempt names a
``Trap``: a marker file it would create and a token its process would carry, so that a test can
show that nothing of it happened.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import zstandard

from tests.pg_dumps import tar_bytes, throwaway_cluster


@dataclass(frozen=True)
class Trap:
    """What a hostile snapshot would leave if it got its way, and a secret it would leak."""

    directory: Path  # world-writable: whoever the scratch user is could write here

    @classmethod
    def make(cls, parent: Path) -> Trap:
        directory = parent / f"trap-{secrets.token_hex(4)}"
        directory.mkdir()
        directory.chmod(0o1777)
        trap = cls(directory)
        trap.secret_file.write_text(f"TOPSECRET-{trap.token}\n")
        trap.secret_file.chmod(0o644)  # readable by the scratch user: only privilege would stop it
        return trap

    @property
    def token(self) -> str:
        return self.directory.name.removeprefix("trap-")

    @property
    def marker(self) -> Path:
        return self.directory / "ran"

    @property
    def secret_file(self) -> Path:
        return self.directory / "secret.txt"

    @property
    def secret(self) -> str:
        return f"TOPSECRET-{self.token}"

    def command(self) -> str:
        """A shell command that leaves the marker and a detached process carrying the token."""
        return f"touch {self.marker}; setsid sh -c 'sleep 1000; : hostile-{self.token}' >/dev/null 2>&1 &"

    def sprung(self) -> list[str]:
        """What of the trap happened: the marker written, a process alive."""
        found = [f"{self.marker} exists"] if self.marker.exists() else []
        found += [f"process {pid} alive" for pid in self.processes()]
        return found

    def processes(self) -> list[int]:
        needle = f"hostile-{self.token}".encode()
        alive = []
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                if needle in (entry / "cmdline").read_bytes():
                    alive.append(int(entry.name))
            except OSError:
                continue
        return alive

    def disarm(self) -> None:
        for pid in self.processes():
            with contextlib.suppress(OSError):
                os.kill(pid, 9)


# Plain dumps: meta-commands where a hostile snapshot would put them.


def plain_with_meta_command(plain: Path, where: str, trap: Trap) -> bytes:
    """pg_dump's plain output (with its own \\restrict pair) and hostile lines ``where``:
    before pg_dump's \\restrict, in the middle, after its \\unrestrict, or after a copy of its
    \\unrestrict in the middle (the snapshot knows its own key)."""
    text = plain.read_bytes()
    lines = text.split(b"\n")
    restrict = next(i for i, line in enumerate(lines) if line.startswith(b"\\restrict "))
    key = lines[restrict].split()[1]
    hostile = [
        f"\\! {trap.command()}".encode(),
        b"\\connect postgresql://drill@db.example.invalid/prod",
        f"\\o |{trap.command()}".encode(),
    ]
    if where == "before its restrict":
        lines[restrict:restrict] = hostile
    elif where == "in the middle":
        middle = next(i for i, line in enumerate(lines) if line.startswith(b"CREATE TABLE"))
        lines[middle:middle] = hostile
    elif where == "after its unrestrict":
        lines.extend(hostile)
    elif where == "after its own unrestrict in the middle":
        middle = next(i for i, line in enumerate(lines) if line.startswith(b"CREATE TABLE"))
        lines[middle:middle] = [b"\\unrestrict " + key, *hostile]
    else:
        raise ValueError(where)
    return b"\n".join(lines)


META_PLACES = (
    "before its restrict",
    "in the middle",
    "after its unrestrict",
    "after its own unrestrict in the middle",
)


# Archives whose data load runs the snapshot's function.

_CHECKED = """
CREATE FUNCTION public.audit(x int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RETURN true; END $$;
CREATE TABLE public.ledger (id int PRIMARY KEY, amount int CHECK (public.audit(amount)));
INSERT INTO public.ledger SELECT g, g FROM generate_series(1, 100) AS g;
"""
# Replaced after the rows are in, so that only the restore runs it (check_function_bodies is off
# in a dump). As a superuser it would run the trap's command as the server's OS user and quote the
# secret file into the error drill reports.
_EVIL = {
    "program first": """
CREATE OR REPLACE FUNCTION public.audit(x int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', {command});
    RAISE EXCEPTION 'leaked: %', pg_read_file({secret});
END $$;
""",
    "file first": """
CREATE OR REPLACE FUNCTION public.audit(x int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'leaked: %', pg_read_file({secret});
    EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', {command});
END $$;
""",
}


def custom_with_evil_check(binaries: Path, out: Path, trap: Trap, order: str) -> Path:
    """A custom-format dump whose CHECK constraint calls COPY ... TO PROGRAM and pg_read_file()."""
    evil = _EVIL[order].format(command=_literal(trap.command()), secret=_literal(str(trap.secret_file)))
    return custom_dump(binaries, out, "checked", _CHECKED + evil)


# Objects planted for drill's verification queries to call; each call is logged in public.calls.
PLANTED = """
CREATE TABLE public.calls (what text, who text, superuser text);
CREATE FUNCTION public.called(what text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO public.calls VALUES (what, current_user, current_setting('is_superuser'));
    RETURN true;
END $$;
CREATE TABLE public.orders_data (id int PRIMARY KEY, placed_at timestamptz NOT NULL);
INSERT INTO public.orders_data SELECT g, timestamptz '2026-01-01' + g * interval '1 hour'
    FROM generate_series(1, 50) AS g;
-- A view where drill's configuration expects a table.
CREATE VIEW public.orders AS SELECT * FROM public.orders_data WHERE public.called('orders view');
-- Catalog look-alikes, amcheck's name, and operators for the types drill's queries compare.
CREATE VIEW public.pg_class AS SELECT * FROM pg_catalog.pg_class WHERE public.called('pg_class');
CREATE VIEW public.pg_namespace AS SELECT * FROM pg_catalog.pg_namespace WHERE public.called('pg_namespace');
CREATE VIEW public.pg_index AS SELECT * FROM pg_catalog.pg_index WHERE public.called('pg_index');
CREATE FUNCTION public.bt_index_check(regclass, boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN PERFORM public.called('bt_index_check'); END $$;
CREATE FUNCTION public.name_text_eq(name, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM public.called('operator ='); RETURN $1::text = $2; END $$;
CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = text, FUNCTION = public.name_text_eq);
CREATE FUNCTION public.char_eq("char", text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM public.called('operator = char'); RETURN $1::text = $2; END $$;
CREATE OPERATOR public.= (LEFTARG = "char", RIGHTARG = text, FUNCTION = public.char_eq);
-- Row-level security its owner is subject to: counting rows must not run the policy.
CREATE TABLE public.guarded (id int PRIMARY KEY);
INSERT INTO public.guarded SELECT g FROM generate_series(1, 10) AS g;
ALTER TABLE public.guarded ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guarded FORCE ROW LEVEL SECURITY;
CREATE POLICY everyone ON public.guarded USING (public.called('policy'));
"""


def custom_with_planted_objects(binaries: Path, out: Path) -> Path:
    return custom_dump(binaries, out, "planted", PLANTED)


_FILLER = """
CREATE TABLE public.filler (id int, body text);
INSERT INTO public.filler SELECT g, repeat('x', 1000) FROM generate_series(1, 60000) AS g;
"""


def custom_dump_that_expands(binaries: Path, out: Path) -> Path:
    """A custom-format dump of a few hundred kilobytes whose table takes some 70 MB restored: rows of
    1 kB repeat well under pg_dump's compression, and are stored as they are (too short to toast)."""
    return custom_dump(binaries, out, "expands", _FILLER)


def custom_dump(binaries: Path, out: Path, name: str, script: str) -> Path:
    import subprocess  # noqa: PLC0415

    path = out / f"{name}.dump"
    with throwaway_cluster(binaries) as socket_dir:
        environ = {**os.environ, "PGHOST": str(socket_dir), "PGUSER": "postgres"}
        for command in (
            ["createdb", name],
            ["psql", "--no-psqlrc", "-q", "-v", "ON_ERROR_STOP=1", "-d", name, "-c", script],
            ["pg_dump", "-Fc", "-f", str(path), name],
        ):
            subprocess.run(
                [str(binaries / command[0]), *command[1:]], env=environ, check=True, capture_output=True
            )
    return path


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Directory dumps that reach outside themselves.


def _write_str(value: bytes) -> bytes:
    """A string as pg_dump's WriteStr writes it with 4-byte ints: sign byte, length, bytes."""
    return b"\x00" + len(value).to_bytes(4, "little") + value


def directory_tar_reading(directory: Path, outside: Path) -> bytes:
    """The -Fd dump, tarred, its toc.dat naming ``outside`` (via ``..``) as a table's data file."""
    toc = (directory / "toc.dat").read_bytes()
    data_file = min(path.name for path in directory.glob("*.dat*") if path.name != "toc.dat")
    name = data_file.split(".")[0] + ".dat"
    escape = "../" * 12 + str(outside).lstrip("/")
    assert _write_str(name.encode()) in toc
    toc = toc.replace(_write_str(name.encode()), _write_str(escape.encode()), 1)
    members = {"dump/toc.dat": toc}
    for path in directory.iterdir():
        if path.name != "toc.dat":
            members[f"dump/{path.name}"] = path.read_bytes()
    return tar_bytes(members)


def directory_tar_with_symlink(directory: Path, outside: Path) -> bytes:
    """The -Fd dump, tarred, with a table's data file a symlink to ``outside``."""
    linked = min(path.name for path in directory.iterdir() if path.name != "toc.dat")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(directory.iterdir()):
            info = tarfile.TarInfo(f"dump/{path.name}")
            if path.name == linked:
                info.type = tarfile.SYMTYPE
                info.linkname = str(outside)
                archive.addfile(info)
            else:
                content = path.read_bytes()
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


# Bombs: a few hundred kilobytes that expand to hundreds of megabytes.


def gzip_bomb(expanded: int, head: bytes = b"-- PostgreSQL database dump\n") -> bytes:
    compressor = zlib.compressobj(9, wbits=31)
    parts = [compressor.compress(head)]
    block = bytes(1 << 22)
    for _ in range(expanded // len(block)):
        parts.append(compressor.compress(block))
    return b"".join([*parts, compressor.flush()])


def zstd_bomb(expanded: int, head: bytes = b"-- PostgreSQL database dump\n") -> bytes:
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    parts = [compressor.compress(head)]
    block = bytes(1 << 22)
    for _ in range(expanded // len(block)):
        parts.append(compressor.compress(block))
    return b"".join([*parts, compressor.flush()])
