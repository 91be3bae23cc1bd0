"""The shared client dials only what the URL guard checked: one lookup per connection, every
address checked, the connection made to a checked address, the name kept for Host and TLS.

Requests go through the real shared transport (no MockTransport) to a loopback server; the
resolver is scripted and any dial to a non-loopback address is refused as unreachable
(tests/fake_network.py), so nothing here touches the real network.
"""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aiadmin.adapters import shared_client
from aiadmin.adapters.errors import ConfigurationError, ProviderConnectionError
from aiadmin.adapters.openai import OpenAIAdapter
from aiadmin.adapters.aiohttp_transport import AiohttpTransport
from aiadmin.adapters.types import ImageRequest
from tests.fake_network import FakeNetwork, LoopbackServer, fake_network, loopback, real_transport  # noqa: F401

pytestmark = pytest.mark.usefixtures("real_transport")

CANARY = "sk-canary-guard-0123456789"
PUBLIC = ("93.184.215.14",)
LOOPBACK = ("127.0.0.1",)


def adapter(base_url: str, **config: object) -> OpenAIAdapter:
    return OpenAIAdapter(base_url=base_url, api_key=CANARY, config=config, provider_name="Guarded")


def key_reached(server: LoopbackServer) -> bool:
    return any(CANARY.encode() in head for head in server.heads)


async def test_a_name_that_answers_public_then_loopback_never_reaches_loopback(
    fake_network: FakeNetwork, loopback: LoopbackServer
) -> None:
    # DNS rebinding: the first connection goes to the public answer (unreachable here), the
    # retry's fresh lookup answers loopback and must be refused, not dialled.
    fake_network.answer("rebind.test", PUBLIC, LOOPBACK)

    with pytest.raises(ConfigurationError) as caught:
        await adapter(f"http://rebind.test:{loopback.port}/v1").list_models()

    assert loopback.connections == 0 and not key_reached(loopback)
    assert "127.0.0.1" not in fake_network.dials
    assert "loopback" in caught.value.message and CANARY not in str(caught.value)
    assert caught.value.provider == "Guarded"


async def test_a_failed_lookup_is_refused_and_never_lets_the_call_through(
    fake_network: FakeNetwork, loopback: LoopbackServer
) -> None:
    fake_network.answer("flaky.test", OSError("Temporary failure in name resolution"), LOOPBACK)

    with pytest.raises(ConfigurationError):
        await adapter(f"http://flaky.test:{loopback.port}/v1").list_models()

    assert loopback.connections == 0 and fake_network.dials == []


async def test_a_name_that_cannot_be_resolved_fails_closed_with_a_clear_error(
    fake_network: FakeNetwork, loopback: LoopbackServer
) -> None:
    with pytest.raises(ProviderConnectionError) as caught:
        await adapter(f"http://nowhere.test:{loopback.port}/v1").list_models()

    assert "Could not resolve the host name nowhere.test" in caught.value.message
    assert fake_network.dials == [] and loopback.connections == 0
    assert CANARY not in str(caught.value)


async def test_a_name_with_a_public_and_a_loopback_address_is_refused_before_any_dial(
    fake_network: FakeNetwork, loopback: LoopbackServer
) -> None:
    fake_network.answer("mixed.test", PUBLIC + LOOPBACK)

    with pytest.raises(ConfigurationError):
        await adapter(f"http://mixed.test:{loopback.port}/v1").list_models()

    assert fake_network.dials == [] and loopback.connections == 0


async def test_allow_private_network_dials_the_checked_address_and_keeps_the_name_in_host(
    fake_network: FakeNetwork, loopback: LoopbackServer
) -> None:
    fake_network.answer("selfhosted.test", LOOPBACK)

    models = await adapter(f"http://selfhosted.test:{loopback.port}/v1", allow_private_network=True).list_models()

    assert models == []
    assert fake_network.lookups == ["selfhosted.test"]  # one lookup, and it is what was dialled
    assert fake_network.dials == ["127.0.0.1"]
    assert loopback.hosts() == [f"selfhosted.test:{loopback.port}"]


async def test_a_cloud_metadata_image_address_is_refused_even_where_private_networks_are_allowed(
    fake_network: FakeNetwork,
) -> None:
    fake_network.answer("selfhosted.test", LOOPBACK)
    fake_network.answer("images.test", ("169.254.169.254",))
    with LoopbackServer() as server:
        server.body = f'{{"created": 1, "data": [{{"url": "http://images.test:{server.port}/a.png"}}]}}'.encode()
        provider = adapter(f"http://selfhosted.test:{server.port}/v1", allow_private_network=True)

        with pytest.raises(ConfigurationError) as caught:
            await provider.generate_image(ImageRequest(model="dall-e-2", prompt="x"))

    assert "metadata" in caught.value.message and "images.test" in caught.value.message
    assert fake_network.dials == ["127.0.0.1"]  # the provider only; never the metadata address
    assert len(server.heads) == 1


# --- TLS: the certificate is checked against the name, not the dialled address -------------


def _certificate_pair(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context for ``selfhosted.test`` (no IP in the certificate) and a client
    context that trusts only its test CA."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "guard test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "selfhosted.test")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("selfhosted.test")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


async def test_tls_sends_the_name_as_sni_and_verifies_the_certificate_against_it(
    fake_network: FakeNetwork, tmp_path: Path
) -> None:
    server_context, client_context = _certificate_pair(tmp_path)
    server_names: list[str | None] = []
    server_context.sni_callback = lambda sock, name, context: server_names.append(name)
    fake_network.answer("selfhosted.test", LOOPBACK)
    shared = AiohttpTransport(max_connections=8, keepalive_expiry=5.0, ssl_context=client_context)  # the test CA only
    shared_client.set_transport_for_tests(shared)

    with LoopbackServer(tls=server_context) as server:
        models = await adapter(f"https://selfhosted.test:{server.port}/v1", allow_private_network=True).list_models()

    assert models == []
    assert fake_network.dials == ["127.0.0.1"]
    assert server_names == ["selfhosted.test"]  # a certificate for the name verified, dialled by IP
