"""Fixtures of the credential-scan tests: the backup credentials and an agent's workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drill.config import Config
from drill.trust.exposure.known import KnownCredentials
from drill.trust.exposure.learn import known_credentials
from tests.exposure import ENVIRON, backup_config, shared_directory, write_secrets


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    return write_secrets(tmp_path)


@pytest.fixture
def config(secrets_dir: Path) -> Config:
    return backup_config(secrets_dir)


@pytest.fixture
def known(config: Config) -> KnownCredentials:
    return known_credentials(config, ENVIRON)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    directory = tmp_path / "workspace"
    directory.mkdir()
    return directory


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    with shared_directory() as directory:
        yield directory
