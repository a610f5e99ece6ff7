"""Configuration: the typed settings model, its one loader and the generated reference."""

from relay.config.accounts import AccountSettings
from relay.config.settings import (
    DEFAULT_AMQP_URL,
    AmqpSettings,
    ArchiveSettings,
    ConfigError,
    HttpSettings,
    LoggingSettings,
    QuarantineSettings,
    Secret,
    SecuritySettings,
    Settings,
    ShutdownSettings,
    SinchSettings,
    TopologySettings,
    env_var,
    environment,
    load_settings,
)

__all__ = [
    "DEFAULT_AMQP_URL",
    "AccountSettings",
    "AmqpSettings",
    "ArchiveSettings",
    "ConfigError",
    "HttpSettings",
    "LoggingSettings",
    "QuarantineSettings",
    "Secret",
    "SecuritySettings",
    "Settings",
    "ShutdownSettings",
    "SinchSettings",
    "TopologySettings",
    "env_var",
    "environment",
    "load_settings",
]
