"""Plain SQL dumps (drill.restore.plain): the roles and extensions they name, and drill's own
``\\restrict`` taking the place of pg_dump's."""

from __future__ import annotations

from pathlib import Path

import pytest

from drill.restore.plain import disarm_own_restrict, psql_refusal, roles_named, scan
from drill.restore.toc import Extension
from tests.pg_dumps import Dumps, dumps_for


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Dumps:
    return dumps_for(tmp_path_factory)


@pytest.mark.parametrize(
    ("version", "refused"),
    [
        ("18.0", False),
        ("18beta1", False),
        ("17.6", False),
        ("17.5", True),
        ("16.10", False),
        ("16.9", True),
        ("15.18", False),  # this machine's
        ("15.14", False),
        ("15.13", True),
        ("14.19", False),
        ("14.18", True),
        ("13.22", False),
        ("12.22", True),
    ],
)
def test_plain_dumps_need_a_psql_with_restrict(version: str, refused: bool) -> None:
    refusal = psql_refusal(version)

    assert (refusal is not None) is refused
    if refusal:
        assert refusal.startswith(f"psql {version} cannot be kept from running the meta-commands")
        assert "15.14, 16.10" in refusal and "custom format" in refusal


def test_pg_dumps_own_restrict_pair_is_disarmed_and_nothing_else_changes(
    dumps: Dumps, tmp_path: Path
) -> None:
    copy = tmp_path / "shop.sql"
    copy.write_bytes(dumps.plain.read_bytes())

    assert disarm_own_restrict(copy)

    before = dumps.plain.read_bytes().split(b"\n")
    after = copy.read_bytes().split(b"\n")
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert len(changed) == 2
    (restrict, commented), (unrestrict, commented_too) = changed
    assert restrict.startswith(b"\\restrict ") and commented == b"--" + restrict[2:]
    assert unrestrict.startswith(b"\\unrestrict ") and commented_too == b"--" + unrestrict[2:]


@pytest.mark.parametrize(
    "head",
    [
        b"SET x = 1;\n\\restrict abc\nSELECT 1;\n\\unrestrict abc\n",  # a statement before it
        b"\\! id\n\\restrict abc\n\\unrestrict abc\n",  # a meta-command before it
        b"/* a block comment */\n\\restrict abc\n\\unrestrict abc\n",  # psql could read past it
    ],
)
def test_a_restrict_that_something_precedes_is_left_for_psql_to_refuse(head: bytes, tmp_path: Path) -> None:
    dump = tmp_path / "hostile.sql"
    dump.write_bytes(head)

    assert not disarm_own_restrict(dump)
    assert dump.read_bytes() == head


def test_an_unrestrict_with_another_key_or_not_last_stays(tmp_path: Path) -> None:
    other_key = tmp_path / "other.sql"
    other_key.write_bytes(b"--\n\\restrict abc\nSELECT 1;\n\\unrestrict xyz\n")
    not_last = tmp_path / "not-last.sql"
    not_last.write_bytes(b"--\n\\restrict abc\n\\unrestrict abc\n\\! id\n")

    assert disarm_own_restrict(other_key) and disarm_own_restrict(not_last)

    assert other_key.read_bytes().endswith(b"\\unrestrict xyz\n")
    assert not_last.read_bytes().endswith(b"\\unrestrict abc\n\\! id\n")


def test_scan_finds_the_extensions_and_their_schemas(tmp_path: Path) -> None:
    dump = tmp_path / "extensions.sql"
    dump.write_bytes(
        b"CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;\n"
        b"COMMENT ON EXTENSION pg_trgm IS 'x';\n"
        b'CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA "Odd Schema";\n'
        b"CREATE EXTENSION hstore;\n"
        b"ALTER TABLE t OWNER TO keeper;\n"
    )

    found = scan(dump)

    assert found.extensions == (
        Extension("pg_trgm", "extensions"),
        Extension("uuid-ossp", "Odd Schema"),
        Extension("hstore", None),
    )
    assert found.roles == {"keeper"}


def test_roles_named_sees_names_across_every_chunk_boundary(tmp_path: Path) -> None:
    dump = tmp_path / "owners.sql"
    dump.write_bytes(
        b"ALTER TABLE public.orders OWNER TO app_owner;\n"
        b'GRANT SELECT ON TABLE public.orders TO "Report ""Team""";\n'
        b"GRANT SELECT ON TABLE public.orders TO PUBLIC;\n"
        b"ALTER DEFAULT PRIVILEGES FOR ROLE auditor GRANT SELECT ON TABLES TO CURRENT_USER;\n"
        b"GRANT pg_read_all_data TO reader;\n"
        b"SET SESSION AUTHORIZATION DEFAULT;\n"
    )
    expected = {"app_owner", 'Report "Team"', "auditor", "reader"}

    assert roles_named(dump) == expected
    # Every size cuts some name somewhere; not one may come back truncated ("app_o") or lost.
    for chunk_size in range(1, dump.stat().st_size + 2):
        assert roles_named(dump, chunk_size=chunk_size) == expected, chunk_size


def test_roles_named_reads_past_lines_longer_than_any_statement(tmp_path: Path) -> None:
    dump = tmp_path / "big-row.sql"
    # A COPY row of 200 kB with no line break, then an owner cut by the chunk boundary.
    dump.write_bytes(
        b"COPY public.blobs (body) FROM stdin;\n"
        + b"x" * 200_000
        + b"\n\\.\nALTER TABLE blobs OWNER TO keeper;\n"
    )

    for chunk_size in (4096, 65_537, 200_030, 1 << 22):
        assert roles_named(dump, chunk_size=chunk_size) == {"keeper"}, chunk_size
