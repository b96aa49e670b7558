from pathlib import Path

import pytest

from drill.storage.pgbackrest.conf import ConfigUnreadable, read_stanza_config

CONF = """
[global]
repo1-path=/var/lib/pgbackrest
repo1-retention-full=2
repo2-type=s3
repo2-path=/pgbackrest
repo2-s3-bucket=backups
repo2-s3-endpoint=s3.eu-west-1.amazonaws.com
repo2-s3-region=eu-west-1
repo2-s3-key=AKIAEXAMPLEKEYID0001
repo2-s3-key-secret=the-secret-key-of-repo-two
repo2-cipher-type=aes-256-cbc
repo2-cipher-pass=the-cipher-passphrase-of-repo-two

[global:restore]
repo1-retention-full=9

[main]
pg1-path=/var/lib/postgresql/15/main
repo1-retention-full=4
repo1-retention-full-type=count
"""


def write(tmp_path: Path, text: str = CONF) -> str:
    path = tmp_path / "pgbackrest.conf"
    path.write_text(text)
    return str(path)


def test_the_stanza_section_outranks_global_and_the_environment_outranks_both(tmp_path: Path) -> None:
    config = read_stanza_config("main", write(tmp_path), {"PGBACKREST_REPO2_RETENTION_FULL": "12"})
    first, second = config.repos
    assert (first.key, first.type, first.retention.full) == (1, "posix", 4)
    assert (second.type, second.bucket, second.path, second.cipher_type) == (
        "s3",
        "backups",
        "/pgbackrest",
        "aes-256-cbc",
    )
    assert second.retention.full == 12


def test_secure_options_are_kept_apart_and_out_of_every_repr(tmp_path: Path) -> None:
    config = read_stanza_config("main", write(tmp_path), {})
    assert config.secrets.of(2) == {
        "s3-key": "AKIAEXAMPLEKEYID0001",
        "s3-key-secret": "the-secret-key-of-repo-two",
        "cipher-pass": "the-cipher-passphrase-of-repo-two",
    }
    shown = repr(config)
    assert "the-secret-key" not in shown and "passphrase" not in shown and "AKIAEXAMPLE" not in shown
    assert all("cipher-pass" not in options for options in config.repo_options.values())


def test_options_named_the_old_way_count_as_repository_ones(tmp_path: Path) -> None:
    config = read_stanza_config("main", write(tmp_path, "[global]\nrepo-path=/old\nretention-full=3\n"), {})
    assert (config.repos[0].path, config.repos[0].retention.full) == ("/old", 3)


def test_a_config_that_is_not_one_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigUnreadable, match="not a valid config file"):
        read_stanza_config("main", write(tmp_path, "just a line\n"), {})
    with pytest.raises(ConfigUnreadable, match="cannot be read"):
        read_stanza_config("main", str(tmp_path / "absent.conf"), {})
