"""The callback routes a relay serves: the single-account paths and each account's own.

An account `eu` gets `/sms/eu`, `/sms/eu/delivery-report` and `/sms/eu/incoming`: the
default paths under its name. Every route is registered statically at start-up, so
matching a request costs the same however many accounts there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from relay.config import AccountSettings
from relay.contract.routing import CATCH_ALL_PATH, FLOW_PATHS, Flow

DEFAULT = ""  # the single-account paths' account: no x-sinch-account header


class Route(NamedTuple):
    path: str
    flow: Flow | None  # None: the catch-all, any type
    account: str


def account_routes(account: str) -> tuple[Route, ...]:
    """The catch-all and one route per flow, under `/sms/<account>` (or `/sms`)."""
    prefix = f"{CATCH_ALL_PATH}/{account}" if account else CATCH_ALL_PATH
    flows = (
        Route(prefix + path.removeprefix(CATCH_ALL_PATH), flow, account)
        for flow, path in FLOW_PATHS.items()
    )
    return (Route(prefix, None, account), *flows)


def served_routes(default_paths: bool, accounts: Iterable[AccountSettings]) -> tuple[Route, ...]:
    """Every callback route, the default paths first (unless turned off)."""
    names = ((DEFAULT,) if default_paths else ()) + tuple(a.name for a in accounts)
    return tuple(route for name in names for route in account_routes(name))
