"""Hostile snapshots (tests/drill/restore/hostile.py) restored as the runner restores them, into a
real scratch cluster: each one fails with its cause, and what it tried did not happen: no
command ran, no process is alive, no file outside the dump was read, no function of the dump's
was called by drill's own queries. The end-to-end runs of `drill run` over the same snapshots are
in test_hostile_end_to_end.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from drill.config import IntegrityQuery
from drill.restore.fetch import FetchError
from drill.restore.runner import DrillFailed
from drill.restore.verify import verify
from tests import factories
from tests.drill.restore import hostile
from tests.drill.restore.conftest import Scratch, fetch_local
from tests.drill.restore.hostile import Trap
from tests.pg_dumps import Dumps, dumps_for


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> Dumps:
    return dumps_for(tmp_path_factory)


@pytest.fixture
def trap(scratch: Scratch) -> Iterator[Trap]:
    planted = Trap.make(scratch.directory)
    yield planted
    planted.disarm()  # only if a test failed: a sprung trap must not outlive it


def snapshot(scratch: Scratch, name: str, content: bytes) -> Path:
    path = scratch.directory / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("where", hostile.META_PLACES)
def test_a_plain_dumps_meta_commands_never_run_wherever_they_are(
    scratch: Scratch, dumps: Dumps, trap: Trap, where: str
) -> None:
    dump = snapshot(scratch, "meta.sql", hostile.plain_with_meta_command(dumps.plain, where, trap))

    with pytest.raises(DrillFailed) as failed:
        scratch.restore(dump, "meta")

    assert failed.value.stage == "restore"
    assert "meta-command" in failed.value.reason and "drill never runs from a snapshot" in failed.value.reason
    assert trap.sprung() == []


def test_a_plain_dump_without_pg_dumps_restrict_is_restricted_all_the_same(
    scratch: Scratch, trap: Trap
) -> None:
    # What an older pg_dump writes (no \restrict of its own), with a command in the middle.
    old_style = f"SET client_encoding = 'UTF8';\nCREATE TABLE t (x int);\n\\! {trap.command()}\n"
    dump = snapshot(scratch, "old.sql", old_style.encode())

    with pytest.raises(DrillFailed, match="meta-command"):
        scratch.restore(dump, "old_style")

    assert trap.sprung() == []


@pytest.mark.parametrize("order", ["program first", "file first"])
def test_a_check_constraint_calling_copy_to_program_and_pg_read_file_fails_and_does_nothing(
    scratch: Scratch, trap: Trap, order: str
) -> None:
    dump = hostile.custom_with_evil_check(scratch.binaries.bin_dir, scratch.directory, trap, order)

    with pytest.raises(DrillFailed) as failed:
        scratch.restore(dump, "checked")

    reason = failed.value.reason
    assert failed.value.stage == "restore"
    expected = (
        "must be superuser or have privileges of the pg_execute_server_program role"
        if order == "program first"
        else "permission denied for function pg_read_file"
    )
    assert expected in reason, reason
    # The error may quote the dump's own function; never what the file holds.
    assert trap.secret not in reason
    assert trap.sprung() == []


def test_a_directory_dump_naming_a_file_outside_itself_is_refused_before_pg_restore_reads_it(
    scratch: Scratch, dumps: Dumps, trap: Trap
) -> None:
    dump = snapshot(scratch, "escape.tar", hostile.directory_tar_reading(dumps.directory, trap.secret_file))

    with pytest.raises(DrillFailed) as failed:
        scratch.restore(dump, "escape")

    assert failed.value.stage == "format"
    assert "is not a file inside the dump directory; drill refused to restore it" in failed.value.reason
    assert trap.secret not in failed.value.reason


def test_a_directory_dump_with_a_symlink_member_is_refused_at_unpacking(
    scratch: Scratch, dumps: Dumps, trap: Trap
) -> None:
    dump = snapshot(
        scratch, "linked.tar", hostile.directory_tar_with_symlink(dumps.directory, trap.secret_file)
    )

    with pytest.raises(FetchError, match="a link; a directory dump holds only files"):
        fetch_local(dump, scratch.directory)


def test_drills_own_queries_call_nothing_the_dump_planted(scratch: Scratch) -> None:
    dump = hostile.custom_with_planted_objects(scratch.binaries.bin_dir, scratch.directory)
    database = scratch.restore(dump, "planted")
    server = scratch.server

    found = verify(
        server.conninfo(database, server.login),
        factories.database("planted", recovery_point_columns=("orders.placed_at",)),
        jobs=2,
    )

    with psycopg.connect(server.conninfo(database)) as connection:
        calls = connection.execute("SELECT what, who, superuser FROM public.calls").fetchall()
    assert calls == []
    rows = {table.table: table.rows for table in found.tables}
    assert rows["public.guarded"] == 10  # every row, without running the policy
    assert rows["public.orders_data"] == 50
    assert "public.orders" not in rows  # a view is not counted
    assert found.recovery_point is None
    assert found.recovery_point_error == (
        "orders.placed_at: public.orders is not a table, and drill reads only tables"
    )
    assert [index.error for index in found.indexes] == [None] * len(found.indexes)


def test_configured_queries_run_as_the_restore_role_not_a_superuser(scratch: Scratch) -> None:
    dump = hostile.custom_with_planted_objects(scratch.binaries.bin_dir, scratch.directory)
    database = scratch.restore(dump, "planted_queries")
    server = scratch.server
    query = IntegrityQuery(name="recent", sql="SELECT count(*) FROM orders", expect="> 0")

    found = verify(server.conninfo(database, server.login), factories.database("planted", checks=(query,)))

    assert [(verdict.name, verdict.value) for verdict in found.queries] == [("recent", 50.0)]
    with psycopg.connect(server.conninfo(database)) as connection:
        calls = set(connection.execute("SELECT what, who, superuser FROM public.calls").fetchall())
    # The operator's own SQL read the view the dump made, and so ran its function: as the restore role.
    assert calls == {("orders view", server.login.role, "off")}


def test_a_snapshot_that_grows_the_cluster_past_the_bound_is_stopped(scratch: Scratch) -> None:
    dump = hostile.custom_dump_that_expands(scratch.binaries.bin_dir, scratch.directory)

    with pytest.raises(DrillFailed) as failed:
        scratch.restore(dump, "expands", max_expanded_size=16 << 20)

    assert failed.value.stage == "restore"
    assert failed.value.reason.startswith(
        "The restored database expands past [restore] max_expanded_size = 16.0 MiB: it was stopped at "
    )
