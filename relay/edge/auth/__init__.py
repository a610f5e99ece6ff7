"""Edge security: signatures with replay protection, Basic, OAuth 2.0, network limits, TLS.

`Authenticator` is built once from `SecuritySettings` and wraps each callback handler in
the checks configured for its route; a route with none configured keeps its bare handler.
"""

from __future__ import annotations

from relay.edge.auth.authenticator import CALLBACK_PATHS, Authenticator
from relay.edge.auth.network import handler_args
from relay.edge.auth.tls import server_context

__all__ = ["CALLBACK_PATHS", "Authenticator", "handler_args", "server_context"]
