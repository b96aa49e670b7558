"""The pgbackrest target: a stanza, its config file and repository, and what it refuses."""

from __future__ import annotations

from pathlib import Path

from drill.config import TargetType, load_config
from tests.drill.config.snippets import assert_names, database, fs_target, table, the_problem, write


def stanza(name: str = "main", **keys: object) -> str:
    fields: dict[str, object] = {"name": name, "type": "pgbackrest", "stanza": "main", "site": "dc-1"}
    return table("[[targets]]", **(fields | keys))


def test_a_database_of_stanzas_alone_needs_no_snapshot_pattern(tmp_path: Path) -> None:
    (tmp_path / "pgbackrest.conf").write_text("[global]\n")
    path = write(
        tmp_path,
        stanza(config="pgbackrest.conf", repo=2),
        database("ledger", targets=("main",), snapshot_pattern=None),
    )
    [target] = load_config(path, environ={}).config.targets
    assert target.type is TargetType.PGBACKREST and target.repo == 2
    assert target.config == str(
        tmp_path / "pgbackrest.conf"
    )  # absolute: pgBackRest reads a relative one from /


def test_a_database_mixing_stanzas_and_dumps_needs_a_pattern_for_the_dumps(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        stanza(),
        fs_target("nas"),
        database("ledger", targets=("main", "nas"), snapshot_pattern=None),
    )
    assert_names(the_problem(path), path, "databases[0].snapshot_pattern", "is required: nas hold dumps")


def test_a_stanza_target_needs_its_stanza(tmp_path: Path) -> None:
    path = write(tmp_path, stanza(stanza=None), database("ledger", targets=("main",), snapshot_pattern=None))
    assert_names(the_problem(path), path, "targets[0]", "needs 'stanza'")


def test_a_stanza_target_takes_no_bucket_or_path(tmp_path: Path) -> None:
    path = write(
        tmp_path, stanza(bucket="backups"), database("ledger", targets=("main",), snapshot_pattern=None)
    )
    assert_names(the_problem(path), path, "targets[0]", "not bucket")


def test_only_a_stanza_target_takes_stanza_keys(tmp_path: Path) -> None:
    path = write(tmp_path, fs_target("nas", stanza="main"), database())
    assert_names(the_problem(path), path, "targets[0]", "only a pgbackrest target takes stanza")


def test_a_config_file_that_does_not_exist_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path, stanza(config="absent.conf"), database("ledger", targets=("main",), snapshot_pattern=None)
    )
    assert_names(the_problem(path), path, "targets[0].config", "does not exist")


def test_only_a_stanza_target_may_leave_out_its_site(tmp_path: Path) -> None:
    ok = write(tmp_path, stanza(site=None), database("ledger", targets=("main",), snapshot_pattern=None))
    assert load_config(ok, environ={}).config.targets[0].site == ""
    path = write(tmp_path, fs_target("nas", site=None), database())
    assert_names(the_problem(path), path, "targets[0].site", "is required")
