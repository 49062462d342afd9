"""HTTPS to the checked address: the certificate is verified against the URL's host name."""

from __future__ import annotations

import datetime
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from webhooks import transport

HOST = "crm.tls.example"


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[int, Path, list[str]]]:
    """A TLS server on loopback with a self-signed certificate for HOST; yields its port, the
    certificate (to trust it) and the Host headers it received."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hosts.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], cert_file, hosts
    server.shutdown()
    server.server_close()


def _target(port: int, host: str = HOST) -> transport.Target:
    # What target_check returns once HOST has resolved to (and been checked as) this address.
    return transport.Target(scheme="https", host=host, port=port, path="/h", address="127.0.0.1")


def test_an_untrusted_certificate_fails_the_delivery(
    tls_receiver: tuple[int, Path, list[str]],
) -> None:
    port, _cert, hosts = tls_receiver
    answer = transport.post(_target(port), body=b"{}", headers={})
    assert answer.status is None
    assert "CERTIFICATE_VERIFY_FAILED" in answer.reason
    assert not hosts


def test_a_trusted_certificate_is_checked_against_the_urls_host_name(
    tls_receiver: tuple[int, Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, cert, hosts = tls_receiver
    # Trust this one certificate as if a public authority had issued it.
    monkeypatch.setattr(transport.certifi, "where", lambda: str(cert))

    assert transport.post(_target(port), body=b"{}", headers={}).status == 204
    assert hosts == [f"{HOST}:{port}"]

    wrong = transport.post(_target(port, host="other.example"), body=b"{}", headers={})
    assert wrong.status is None
    assert "doesn't match" in wrong.reason
    assert len(hosts) == 1
