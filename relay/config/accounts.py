"""Several Sinch accounts on one relay: the `[accounts.<name>]` tables.

Each table is one Sinch account (service plan) on its own paths and with its own
credentials; `RELAY_ACCOUNT_<NAME>_<KEY>` overrides its keys (relay/config/loader.py,
`load_named`). The edge builds each account's guards from `AccountSettings.security`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from relay.config.loader import Section, load_named, not_a_setting
from relay.config.secret import ConfigError, Secret

if TYPE_CHECKING:  # settings.py imports this module: only the type, no cycle
    from relay.config.settings import SecuritySettings


@dataclasses.dataclass(frozen=True, slots=True)
class AccountSettings:
    """One Sinch account (service plan) on its own paths: `/sms/<name>`,
    `/sms/<name>/delivery-report`, `/sms/<name>/incoming`.

    Its keys are `SecuritySettings`' authentication keys with the same meaning, for this
    account's paths only; `security()` turns them into the `SecuritySettings` the edge
    builds the account's guards from. Nothing secret is inherited from `[security]`, so
    a secret of one account never authenticates another's path. OAuth stays on the
    default paths: its one token endpoint cannot tell accounts apart.
    """

    name: str = dataclasses.field(default="", metadata=not_a_setting())
    hmac_routes: tuple[str, ...] = ()
    hmac_secrets: tuple[Secret, ...] = ()
    hmac_secrets_file: str = ""
    basic_routes: tuple[str, ...] = ()
    basic_credentials: tuple[Secret, ...] = ()  # "user:password"
    basic_credentials_file: str = ""
    allow_cidrs: tuple[str, ...] = ()

    def security(self, shared: SecuritySettings) -> SecuritySettings:
        """`shared` (`[security]`) with this account's credentials and allowlist in place
        of the default paths' own; limits, replay memory and TLS stay shared."""
        return dataclasses.replace(
            shared,
            hmac_routes=self.hmac_routes,
            hmac_secrets=self.hmac_secrets,
            hmac_secrets_file="",
            basic_routes=self.basic_routes,
            basic_credentials=self.basic_credentials,
            basic_credentials_file="",
            oauth_routes=(),
            oauth_clients=(),
            oauth_clients_file="",
            oauth_token_keys=(),
            oauth_token_keys_file="",
            allow_cidrs=self.allow_cidrs,
        )


# Lower-case letters, digits and inner hyphens: a URL segment and, with `-` as `_`, a
# variable name (RELAY_ACCOUNT_US_EAST_*). Not a flow path's own last segment.
_ACCOUNT_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
RESERVED_ACCOUNT_NAMES = frozenset({"delivery-report", "incoming"})
ACCOUNT = Section("accounts.<name>", AccountSettings, "RELAY_ACCOUNT_<name>")
"""The shape of every `[accounts.<name>]` table, for the generated reference."""


def check_account_names(names: Iterable[str]) -> None:
    """`ConfigError` for a name that cannot be a path segment or collides with a flow path."""
    for name in names:
        if name in RESERVED_ACCOUNT_NAMES or not _ACCOUNT_NAME.fullmatch(name):
            raise ConfigError(
                f"invalid account name accounts.{name!r}: lower-case letters, digits and "
                f"inner hyphens, not {' or '.join(sorted(RESERVED_ACCOUNT_NAMES))}"
            )


def check_accounts(accounts: tuple[AccountSettings, ...], default_paths: bool) -> None:
    """Valid, distinct names, and some callback path left to serve."""
    names = [a.name for a in accounts]
    check_account_names(names)
    if len(set(names)) != len(names):
        raise ConfigError(f"accounts: a name appears twice in {names}")
    if not (default_paths or accounts):
        raise ConfigError(
            "http.default_paths (RELAY_HTTP_DEFAULT_PATHS) is false and no "
            "[accounts.<name>] is configured: no callback path would be served"
        )


def load_accounts(raw: Any, env: Mapping[str, str]) -> tuple[AccountSettings, ...]:
    """The `[accounts.<name>]` tables, each overridden by `RELAY_ACCOUNT_<NAME>_<KEY>`."""
    check_account_names(raw if isinstance(raw, dict) else ())
    tables = load_named("accounts", AccountSettings, "RELAY_ACCOUNT", raw, env)
    return tuple(dataclasses.replace(a, name=name) for name, a in tables.items())
