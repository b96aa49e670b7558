"""The TOML contract: one strictly validated, frozen model, and errors that name file, key and reason.

``models`` holds the pydantic models, ``loading`` reads a file into them, ``consistency`` finds what
the models alone cannot (literal secrets, dangling names, unset variables, missing files), and
``errors`` turns every problem into one line: ``FILE: DOTTED.KEY: REASON``.
"""

from drill.config.errors import ConfigError, Problem, dotted
from drill.config.keeping import KeepPeriod
from drill.config.loading import LoadedConfig, load_config
from drill.config.models import (
    Agent,
    BaselineSettings,
    Config,
    Credentials,
    Database,
    IntegrityQuery,
    Policy,
    PolicyOverrides,
    ReportSettings,
    RestoreEngine,
    RestoreSettings,
    RunSettings,
    Target,
    TargetType,
)
from drill.config.operations import (
    HeartbeatStyle,
    MetricsSettings,
    NotifyEvent,
    NotifySettings,
    ScheduleSettings,
)
from drill.config.types import Duration

__all__ = [
    "Agent",
    "BaselineSettings",
    "Config",
    "ConfigError",
    "Credentials",
    "Database",
    "Duration",
    "HeartbeatStyle",
    "IntegrityQuery",
    "KeepPeriod",
    "LoadedConfig",
    "MetricsSettings",
    "NotifyEvent",
    "NotifySettings",
    "Policy",
    "PolicyOverrides",
    "Problem",
    "ReportSettings",
    "RestoreEngine",
    "RestoreSettings",
    "RunSettings",
    "ScheduleSettings",
    "Target",
    "TargetType",
    "dotted",
    "load_config",
]
