"""Fixtures of the deploy tests."""

from __future__ import annotations

import pytest

from drill.config import Config
from tests.deploy.manifests import config_text, load_drill_config, named_variables


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    text = config_text()
    return load_drill_config(text, named_variables(text), tmp_path_factory.mktemp("config"))
