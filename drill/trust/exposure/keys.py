"""Private keys by content: PEM blocks (PKCS#1, PKCS#8, SEC1, PGP) and OpenSSH keys, whatever the
file is called. Public keys and certificates are PEM too and are not credentials: only a label
that says ``PRIVATE KEY`` counts, and only a block with a body and its closing line, so that a
README quoting the header is not a key.

The sighting names the key's type, whether a passphrase protects it, and a fingerprint: the first
16 hex digits of the SHA-256 of the decoded body, enough to tell two copies of one key apart and
nothing to rebuild it from. It is not ``ssh-keygen -l``'s fingerprint (that is of the public half,
which a private PEM does not always carry).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterator

from drill.facts import SightingKind
from drill.trust.exposure.shape import Shape

# The body is bounded (an RSA 16384-bit key is about 12 KiB) so that a file of many headers
# without their closing lines costs one bounded look per header, never a quadratic search. A line
# break is a real one or an escaped "\n", as a key sits in JSON (Terraform state, a secrets dump).
_BREAK = rb"(?:\r?\n|(?:\\r)?\\n)"
_BLOCK = re.compile(
    rb"-----BEGIN ((?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?)-----[ \t]*"
    + _BREAK
    # RFC 1421 headers (Proc-Type, DEK-Info), then a blank line.
    + rb"((?:[A-Za-z][A-Za-z-]{0,30}:[^\r\n\\]{0,200}"
    + _BREAK
    + rb"){1,4}"
    + _BREAK
    + rb")?"
    + rb"([A-Za-z0-9+/=\\\r\n \t]{64,16384}?)"
    + rb"-----END \1-----"
)
_OPENSSH_MAGIC = b"openssh-key-v1\x00"
_FINGERPRINT_DIGITS = 16


def private_key_shapes(data: bytes) -> Iterator[Shape]:
    if b"PRIVATE KEY" not in data:  # one fast look rules out nearly every file
        return
    for match in _BLOCK.finditer(data):
        label = match.group(1).decode("ascii")
        headers, body = match.group(2) or b"", _body(match.group(3))
        try:
            decoded = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            continue  # not base64: a template or prose between the two lines, not a key
        if len(decoded) < 32:
            continue
        fingerprint = hashlib.sha256(decoded).hexdigest()[:_FINGERPRINT_DIGITS]
        protected = _protected(label, headers, decoded)
        kind = _KIND.get(label, label.lower())
        state = "passphrase-protected" if protected else "unencrypted"
        yield Shape(
            match.start(),
            SightingKind.CREDENTIAL_FILE,
            f"{kind} ({state}, PEM block {label})",
            f"•••• (sha256:{fingerprint}…)",
            end=match.end(),
        )


_KIND = {
    "PRIVATE KEY": "private key (PKCS#8)",
    "ENCRYPTED PRIVATE KEY": "private key (PKCS#8)",
    "RSA PRIVATE KEY": "RSA private key",
    "EC PRIVATE KEY": "EC private key",
    "DSA PRIVATE KEY": "DSA private key",
    "OPENSSH PRIVATE KEY": "OpenSSH private key",
    "PGP PRIVATE KEY BLOCK": "PGP private key",
}


def _body(block: bytes) -> bytes:
    lines = [line.strip() for line in block.replace(b"\\r", b"").replace(b"\\n", b"\n").splitlines()]
    # A PGP armour's last body line is its checksum ("=AbCd"), not part of the key.
    return b"".join(line for line in lines if line and not line.startswith(b"="))


def _protected(label: str, headers: bytes, decoded: bytes) -> bool:
    if label.startswith("ENCRYPTED") or b"ENCRYPTED" in headers:
        return True
    if label == "OPENSSH PRIVATE KEY" and decoded.startswith(_OPENSSH_MAGIC):
        # The cipher's name follows the magic as a length-prefixed string; "none" means no passphrase.
        start = len(_OPENSSH_MAGIC)
        length = int.from_bytes(decoded[start : start + 4], "big")
        return decoded[start + 4 : start + 4 + length] != b"none"
    return False
