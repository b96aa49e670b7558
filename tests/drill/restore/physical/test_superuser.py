"""The bootstrap superuser's name, read from a real cluster's pg_authid file, and refused from garbage."""

from pathlib import Path

import pytest

from drill.restore.binaries import PgBinaries
from drill.restore.physical.superuser import PG_AUTHID, SuperuserUnknown, bootstrap_superuser
from drill.restore.scratch import ScratchCluster


def test_the_name_initdb_gave_is_read_from_pg_authid(pg_binaries: PgBinaries, work_dir: Path) -> None:
    with ScratchCluster(pg_binaries, work_dir=work_dir) as server:
        # Roles made later and an updated superuser (a dead version of its row) change nothing.
        import psycopg  # noqa: PLC0415

        with psycopg.connect(server.conninfo(), autocommit=True) as connection:
            connection.execute("CREATE ROLE someone_else")
            connection.execute(f'ALTER ROLE "{server.user}" CONNECTION LIMIT 50')
            connection.execute("CHECKPOINT")
        assert bootstrap_superuser(server.data_dir) == server.user


def test_a_file_that_is_no_catalog_is_refused(tmp_path: Path) -> None:
    catalog = tmp_path / PG_AUTHID
    catalog.parent.mkdir()
    catalog.write_bytes(b"\xff" * 100)
    with pytest.raises(SuperuserUnknown, match="not a catalog"):
        bootstrap_superuser(tmp_path)
    catalog.write_bytes(b"\xff" * 8192)
    with pytest.raises(SuperuserUnknown, match="no role with OID 10"):
        bootstrap_superuser(tmp_path)
    with pytest.raises(SuperuserUnknown, match="cannot be read"):
        bootstrap_superuser(tmp_path / "missing")
