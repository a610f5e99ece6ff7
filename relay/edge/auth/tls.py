"""TLS served by the relay itself, optionally requiring client certificates (mTLS)."""

from __future__ import annotations

import ssl

from relay.config import ConfigError, SecuritySettings

_VERIFY = {
    "none": ssl.CERT_NONE,
    "optional": ssl.CERT_OPTIONAL,
    "required": ssl.CERT_REQUIRED,
}


def server_context(settings: SecuritySettings) -> ssl.SSLContext | None:
    """The listener's context, or None when no certificate is configured (plain HTTP)."""
    if not settings.tls_cert_file:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file or None)
        if settings.tls_client_ca_file:
            context.load_verify_locations(cafile=settings.tls_client_ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load TLS files: {exc}") from None
    context.verify_mode = _VERIFY[settings.tls_client_cert]
    if settings.tls_client_cert != "none" and not settings.tls_client_ca_file:
        raise ConfigError("security.tls_client_cert needs security.tls_client_ca_file")
    return context
