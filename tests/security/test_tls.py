"""TLS served directly, and mutual TLS, with a throw-away CA generated in the test."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from relay.config import ConfigError, SecuritySettings, Settings
from relay.edge.app import create_app
from relay.edge.auth import server_context
from tests.security.conftest import MO_TEXT
from tests.support.fakes import FakePublisher

Key = ec.EllipticCurvePrivateKey


def _cert(
    name: str, key: Key, issuer: tuple[x509.Certificate, Key] | None, ca: bool
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        san = x509.SubjectAlternativeName([x509.DNSName("localhost")])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _write(directory: Path, name: str, cert: x509.Certificate, key: Key) -> tuple[str, str]:
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """A CA, a server certificate for localhost and a client certificate, all on disk."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("test-ca", ca_key, None, ca=True)
    files = {"ca": _write(tmp_path, "ca", ca, ca_key)}
    for name in ("server", "client"):
        key = ec.generate_private_key(ec.SECP256R1())
        files[name] = _write(tmp_path, name, _cert(name, key, (ca, ca_key), ca=False), key)
    return files


async def _serve(security: SecuritySettings) -> tuple[web.AppRunner, int, FakePublisher]:
    publisher = FakePublisher()
    runner = web.AppRunner(create_app(Settings(security=security), publisher))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context(security))
    await site.start()
    port = runner.addresses[0][1]
    return runner, port, publisher


def _client_context(pki: dict[str, tuple[str, str]], with_cert: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=pki["ca"][0])
    if with_cert:
        context.load_cert_chain(*pki["client"])
    return context


async def _post(port: int, context: ssl.SSLContext) -> int:
    async with aiohttp.ClientSession() as session:
        url = f"https://localhost:{port}/sms/incoming"
        async with session.post(url, data=MO_TEXT, ssl=context) as response:
            return response.status


async def test_tls_is_served_when_configured(pki: dict[str, Any]) -> None:
    """With a certificate configured, callbacks arrive over HTTPS."""
    security = SecuritySettings(tls_cert_file=pki["server"][0], tls_key_file=pki["server"][1])
    runner, port, publisher = await _serve(security)
    try:
        assert await _post(port, _client_context(pki, with_cert=False)) == 200
    finally:
        await runner.cleanup()
    assert len(publisher.published) == 1


async def test_mutual_tls_requires_a_client_certificate(pki: dict[str, Any]) -> None:
    """tls_client_cert = "required": a client without a CA-signed certificate cannot connect."""
    security = SecuritySettings(
        tls_cert_file=pki["server"][0],
        tls_key_file=pki["server"][1],
        tls_client_ca_file=pki["ca"][0],
        tls_client_cert="required",
    )
    runner, port, publisher = await _serve(security)
    try:
        assert await _post(port, _client_context(pki, with_cert=True)) == 200
        with pytest.raises(aiohttp.ClientError):
            await _post(port, _client_context(pki, with_cert=False))
    finally:
        await runner.cleanup()
    assert len(publisher.published) == 1


def test_client_cert_without_ca_is_a_config_error(pki: dict[str, Any]) -> None:
    """Requiring client certificates without naming their CA is refused at start-up."""
    security = SecuritySettings(
        tls_cert_file=pki["server"][0], tls_key_file=pki["server"][1], tls_client_cert="required"
    )
    with pytest.raises(ConfigError, match="tls_client_ca_file"):
        server_context(security)


def test_no_certificate_means_plain_http() -> None:
    """TLS is off unless a certificate is configured."""
    assert server_context(SecuritySettings()) is None
