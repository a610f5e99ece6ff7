"""Configuration: the typed settings model, its one loader and the generated reference."""

from relay.config.accounts import AccountSettings
from relay.config.settings import (
    DEFAULT_AMQP_URL,
    AmqpSettings,
    ConfigError,
    HttpSettings,
    LoggingSettings,
    Secret,
    SecuritySettings,
    Settings,
    ShutdownSettings,
    TopologySettings,
    env_var,
    environment,
    load_settings,
)

__all__ = [
    "DEFAULT_AMQP_URL",
    "AccountSettings",
    "AmqpSettings",
    "ConfigError",
    "HttpSettings",
    "LoggingSettings",
    "Secret",
    "SecuritySettings",
    "Settings",
    "ShutdownSettings",
    "TopologySettings",
    "env_var",
    "environment",
    "load_settings",
]
