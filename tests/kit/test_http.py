"""HTTP plumbing (kit/http.py): JSON answers rendered by orjson, a request body read once by a guard
then handed whole to the application, and one TLS context for every outgoing client."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from safeslot.kit.http import JSON, outgoing_client, read_body, replay, tls_context


def _receiver(*messages: dict[str, Any]) -> Any:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    return receive


def test_a_json_answer_is_compact_utf8_json() -> None:
    answer = JSON({"title": "Solicitar beneficios", "n": 1})
    assert answer.body == b'{"title":"Solicitar beneficios","n":1}'
    assert answer.headers["content-type"] == "application/json"


def test_a_body_in_chunks_is_read_whole_and_a_client_that_left_gives_none() -> None:
    chunks = _receiver({"type": "http.request", "body": b"ab", "more_body": True},
                       {"type": "http.request", "body": b"cd"})
    assert asyncio.run(read_body(chunks)) == b"abcd"
    left = _receiver({"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"})
    assert asyncio.run(read_body(left)) is None


def test_the_application_gets_the_body_once_then_the_real_receive() -> None:
    async def go() -> list[dict[str, Any]]:
        receive = replay(b"abcd", _receiver())
        return [await receive(), await receive()]

    assert asyncio.run(go()) == [{"type": "http.request", "body": b"abcd", "more_body": False},
                                 {"type": "http.disconnect"}]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_outgoing_clients_share_one_context_that_refuses_a_server_it_does_not_trust(tmp_path: Path) -> None:
    with outgoing_client() as first, outgoing_client(timeout=5.0) as second:
        pools = [client._transport._pool for client in (first, second)]
    assert all(pool._ssl_context is tls_context() for pool in pools)
    assert tls_context().verify_mode == ssl.CERT_REQUIRED and tls_context().check_hostname
    # a server whose certificate no authority signed: the shared context refuses it, as httpx's own would
    cert_file, key_file = _self_signed(tmp_path)
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert_file, key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with contextlib.suppress(OSError), server_side.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        refused = pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED")
        with outgoing_client(timeout=5.0) as client, refused:
            client.get(f"https://localhost:{port}/")
    finally:
        thread.join(timeout=5)
        listener.close()
