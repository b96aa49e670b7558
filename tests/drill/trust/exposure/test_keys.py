"""Private keys found by content under any name; public keys and certificates are not credentials."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from drill.facts import SightingKind
from drill.trust.exposure.known import KnownCredentials
from drill.trust.exposure.walk import scan
from tests.exposure import agent, assert_no_secret

Encoding = serialization.Encoding
Format = serialization.PrivateFormat


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def assert_key_hidden(shown: str, pem: bytes) -> None:
    for line in pem.splitlines()[1:-1]:
        assert line.decode() not in shown


def test_an_rsa_key_under_an_innocuous_name_is_found(workspace: Path, known: KnownCredentials) -> None:
    pem = rsa_key().private_bytes(Encoding.PEM, Format.TraditionalOpenSSL, serialization.NoEncryption())
    (workspace / "notes.txt").write_bytes(b"deploy notes\n\n" + pem)

    exposure = scan(agent(workspace), known)

    [sighting] = exposure.sightings
    assert sighting.kind is SightingKind.CREDENTIAL_FILE
    assert sighting.path.endswith("notes.txt") and sighting.line == 3
    assert sighting.what == "RSA private key (unencrypted, PEM block RSA PRIVATE KEY)"
    assert sighting.masked.startswith("•••• (sha256:")
    assert_key_hidden(repr(exposure), pem)
    assert_no_secret(exposure)


def test_a_key_escaped_in_json_is_found(workspace: Path, known: KnownCredentials) -> None:
    # Terraform state keeps the keys it generates (tls_private_key) as JSON strings.
    pem = rsa_key().private_bytes(Encoding.PEM, Format.PKCS8, serialization.NoEncryption())
    state = {
        "resources": [
            {"type": "tls_private_key", "instances": [{"attributes": {"private_key_pem": pem.decode()}}]}
        ]
    }
    (workspace / "state.json").write_text(json.dumps(state, indent=2))

    exposure = scan(agent(workspace), known)

    [sighting] = exposure.sightings
    assert (sighting.line, sighting.what) == (8, "private key (PKCS#8) (unencrypted, PEM block PRIVATE KEY)")
    assert_key_hidden(repr(exposure), pem)


def test_an_openssh_key_is_found_and_its_fingerprint_tells_copies_apart(
    workspace: Path, known: KnownCredentials
) -> None:
    first, second = (
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, Format.OpenSSH, serialization.NoEncryption()
        )
        for _ in range(2)
    )
    (workspace / "a.bak").write_bytes(first)
    (workspace / "b.bak").write_bytes(first)
    (workspace / "c.bak").write_bytes(second)

    sightings = sorted(scan(agent(workspace), known).sightings, key=lambda sighting: sighting.path)

    assert [sighting.what for sighting in sightings] == [
        "OpenSSH private key (unencrypted, PEM block OPENSSH PRIVATE KEY)"
    ] * 3
    assert sightings[0].masked == sightings[1].masked != sightings[2].masked
    assert_key_hidden(repr(sightings), first)


def test_a_passphrase_protected_key_is_found_and_said_so(workspace: Path, known: KnownCredentials) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        Encoding.PEM, Format.PKCS8, serialization.BestAvailableEncryption(b"correct horse")
    )
    (workspace / "data.yaml").write_bytes(pem)

    [sighting] = scan(agent(workspace), known).sightings

    assert sighting.what == "private key (PKCS#8) (passphrase-protected, PEM block ENCRYPTED PRIVATE KEY)"


def test_public_keys_and_certificates_are_not_flagged(workspace: Path, known: KnownCredentials) -> None:
    key = rsa_key()
    public = key.public_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "db.internal")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (workspace / "key.pub.pem").write_bytes(
        public.public_bytes(Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    (workspace / "id_rsa.pub").write_bytes(
        public.public_bytes(Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    (workspace / "server.crt").write_bytes(certificate.public_bytes(Encoding.PEM))
    # A README that quotes the header, and a template whose body is not a key.
    (workspace / "README.md").write_text(
        "Paste the key between\n-----BEGIN PRIVATE KEY-----\nand its END line.\n"
    )
    (workspace / "key.tmpl").write_text(
        '-----BEGIN PRIVATE KEY-----\n{{ .Values.tls.key | replace "x" "y" | indent 4 | trim | quote }}\n'
        "-----END PRIVATE KEY-----\n"
    )

    exposure = scan(agent(workspace), known)

    assert exposure.sightings == ()
    assert exposure.stats.files_scanned == 5


def test_many_headers_without_bodies_cost_a_bounded_look_each(
    workspace: Path, known: KnownCredentials
) -> None:
    header = b"-----BEGIN RSA PRIVATE KEY-----\n" + b"A" * 80 + b"\n"
    (workspace / "junk.txt").write_bytes(header * 5000)

    exposure = scan(agent(workspace), known)

    assert exposure.sightings == ()
    assert exposure.stats.files_scanned == 1
