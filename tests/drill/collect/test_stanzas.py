"""Expanding pgbackrest targets into their repositories: each one a copy, or the reason it is not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from drill.collect.stanzas import backups_listing, read_stanzas
from drill.config import Target, TargetType
from drill.facts import StanzaRepo, Unavailable
from tests.pgbackrest_estate import Stanza


def stanza_target(stanza: Stanza | None, **keys: object) -> Target:
    fields: dict[str, object] = {
        "name": "main",
        "type": "pgbackrest",
        "stanza": stanza.name if stanza else "main",
        "config": str(stanza.config) if stanza else "/nonexistent/pgbackrest.conf",
        "site": "dc-1",
    }
    return Target.model_validate(fields | keys)


def test_an_unreadable_config_is_one_copy_that_says_why() -> None:
    [copy] = read_stanzas((stanza_target(None),), {}, timeout=30, concurrency=2).copies["main"]
    assert (
        isinstance(copy.repo, Unavailable)
        and "/nonexistent/pgbackrest.conf cannot be read" in copy.repo.reason
    )
    assert isinstance(backups_listing(copy), Unavailable)


@pytest.mark.slow
def test_a_posix_repository_is_a_filesystem_copy_whose_snapshots_are_its_backups(
    pgbackrest_stanza: Stanza,
) -> None:
    [copy] = read_stanzas((stanza_target(pgbackrest_stanza),), {}, timeout=60, concurrency=2).copies["main"]
    assert copy.target.name == "main.repo1" and copy.target.type is TargetType.FILESYSTEM
    assert copy.target.path == str(pgbackrest_stanza.repo_path) and copy.target.site == "dc-1"
    assert isinstance(copy.repo, StanzaRepo) and copy.storage is None
    listing = backups_listing(copy)
    assert not isinstance(listing, Unavailable) and listing.latest is not None
    assert listing.latest.key == f"backup/main/{pgbackrest_stanza.labels[-1]}/backup.manifest"
    assert (
        Path(copy.target.path or "") / listing.latest.key
    ).is_file()  # a real object, whose protection is read


@pytest.mark.slow
def test_a_posix_repository_without_a_site_cannot_be_placed(pgbackrest_stanza: Stanza) -> None:
    [copy] = read_stanzas((stanza_target(pgbackrest_stanza, site=""),), {}, timeout=60, concurrency=2).copies[
        "main"
    ]
    assert isinstance(copy.repo, Unavailable) and "cannot tell its failure domain" in copy.repo.reason


@pytest.mark.slow
def test_validate_says_which_stanza_does_not_exist(tmp_path: Path, pgbackrest_stanza: Stanza) -> None:
    config = tmp_path / "drill.toml"
    config.write_text(
        f'[[targets]]\nname = "other"\ntype = "pgbackrest"\nstanza = "nope"\nconfig = "{pgbackrest_stanza.config}"\n'
        'site = "dc-1"\n\n[[databases]]\nname = "app"\nsite = "dc-1"\ntargets = ["other"]\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "drill", "validate", "-c", str(config)],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert (
        "targets[0] (other): stanza nope does not exist: pgBackRest says 'missing stanza path'."
        in done.stderr
    )
