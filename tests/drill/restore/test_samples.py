"""The Chinook- and Pagila-style samples (tests/pg_samples.py), in every format and wrapping, restore
cleanly as an untrusted snapshot is restored (the restore role, the box, drill's \\restrict) and
verify sound: the restrictions cost a good dump nothing.

Pagila brings what a restore role must manage without a superuser: owners that are stand-ins, a
policy naming a role, a trusted extension the dump creates in a schema of its own (pg_trgm), one
PostgreSQL does not trust that drill creates first (pgstattuple), and comments on both.
"""

from __future__ import annotations

import psycopg
import pytest

from drill.restore.verify import verify
from tests import factories, pg_samples
from tests.drill.restore.conftest import Scratch
from tests.pg_dumps import Dumps, samples_for

ROWS = {"chinook": pg_samples.CHINOOK_ROWS, "pagila": pg_samples.PAGILA_ROWS}
WRAPPINGS = (
    "custom",
    "directory_tar",
    "tar",
    "plain",
    "plain_gz",
    "plain_zst",
    "custom_zst",
    "directory_tar_gz",
)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Dumps]:
    return samples_for(tmp_path_factory)


@pytest.mark.parametrize("wrapping", WRAPPINGS)
@pytest.mark.parametrize("sample", ["chinook", "pagila"])
def test_a_sample_restores_cleanly_as_the_restore_role_and_verifies_sound(
    samples: dict[str, Dumps], scratch: Scratch, sample: str, wrapping: str
) -> None:
    database = scratch.restore(getattr(samples[sample], wrapping), sample)
    login = scratch.server.login
    found = verify(scratch.server.conninfo(database, login), factories.database(sample), jobs=2)

    assert {table.table: table.rows for table in found.tables} == ROWS[sample]
    assert [index for index in found.indexes if index.error] == []
    assert len(found.indexes) > 5
    assert [sequence for sequence in found.sequences if sequence.behind] == []


def test_pagilas_extensions_are_owned_by_the_restore_role_and_its_objects_by_stand_ins(
    samples: dict[str, Dumps], scratch: Scratch
) -> None:
    database = scratch.restore(samples["pagila"].plain, "pagila_owners")

    with psycopg.connect(scratch.server.conninfo(database), autocommit=True) as connection:
        extensions = dict(
            connection.execute(
                "SELECT e.extname, e.extowner::regrole::text || ' in ' || n.nspname FROM pg_extension e "
                "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname IN ('pg_trgm', 'pgstattuple')"
            ).fetchall()
        )
        owners = dict(
            connection.execute(
                "SELECT tablename, tableowner FROM pg_tables WHERE tablename IN ('film', 'rental')"
            ).fetchall()
        )
        comment = connection.execute(
            "SELECT obj_description(oid, 'pg_extension') FROM pg_extension WHERE extname = 'pgstattuple'"
        ).fetchone()
    role = scratch.server.login.role
    assert extensions == {"pg_trgm": f"{role} in extensions", "pgstattuple": f"{role} in public"}
    assert owners == {"film": "pagila_owner", "rental": "postgres"}
    assert comment == ("show tuple-level statistics",)
