"""The example's ConfigMap: its drill.toml loads with drill's own loader, every CronJob gives it the
variables it names, and it keeps to workload identity (no static credentials, no textfile).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drill.config import Config, ConfigError
from tests.deploy.manifests import (
    config_text,
    cronjobs,
    label,
    load_drill_config,
    named_variables,
    pod_environ,
)


def config_problems(config: Config) -> list[str]:
    problems = [
        f"target {target.name!r} names credentials; keep the table empty so workload identity is used."
        for target in config.targets
        if target.credentials.configured
    ]
    if config.metrics.textfile is not None:
        problems.append("[metrics] textfile is set, but a Job's pod has no node_exporter to read it.")
    if not (config.notify.webhook_env and config.notify.heartbeat_env and config.metrics.pushgateway_env):
        problems.append("the config does not name the webhook, heartbeat and Pushgateway variables.")
    return problems


def test_the_configmap_config_loads_with_drills_own_loader(tmp_path: Path) -> None:
    text = config_text()
    environ = named_variables(text)
    assert set(environ) == {"DRILL_WEBHOOK_URL", "DRILL_HEARTBEAT_URL", "DRILL_PUSHGATEWAY_URL"}
    loaded = load_drill_config(text, environ, tmp_path)
    assert [database.name for database in loaded.databases] == ["orders", "billing"]
    assert config_problems(loaded) == []


def test_the_config_loader_refuses_the_config_when_the_secret_variables_are_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DRILL_WEBHOOK_URL is not set"):
        load_drill_config(config_text(), {}, tmp_path)


@pytest.mark.parametrize("cronjob", cronjobs(), ids=label)
def test_each_cronjob_provides_every_variable_the_config_names(
    cronjob: dict[str, Any], tmp_path: Path
) -> None:
    assert load_drill_config(config_text(), pod_environ(cronjob), tmp_path).databases


def test_a_config_with_static_credentials_or_a_textfile_is_rejected(tmp_path: Path) -> None:
    # The first empty credentials table is s3-primary's.
    text = config_text().replace("credentials = {}\n", 'credentials = { profile = "backup-reader" }\n', 1)
    text += '\ntextfile = "/var/lib/node_exporter/drill.prom"\n'  # lands in [metrics], the last table
    problems = config_problems(load_drill_config(text, named_variables(text), tmp_path))
    assert any("'s3-primary' names credentials" in problem for problem in problems), problems
    assert any("textfile" in problem for problem in problems), problems
