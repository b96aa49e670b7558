"""Kubernetes client configs by content: a ``kind: Config`` document whose users carry a token, a
password or a client key inline. A kubeconfig that authenticates through an ``exec`` plugin or
names files holds no credential itself and is not a sighting; the files it names are scanned on
their own (a key file is found as a private key).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from drill.facts import SightingKind
from drill.trust.exposure.known import mask_secret
from drill.trust.exposure.shape import Shape, placeholder

_KIND_CONFIG = re.compile(rb"(?m)^kind:[ \t]*[\"']?Config[\"']?[ \t]*\r?$")
_USERS = re.compile(rb"(?m)^users:")
_CREDENTIAL = re.compile(
    rb"(?m)^[ \t-]*[\"']?(token|id-token|refresh-token|access-token|password|client-key-data)[\"']?:"
    rb"[ \t]*[\"']?([^\s\"'#]+)"
)
_WHAT = {
    b"token": "bearer token",
    b"id-token": "OIDC id token",
    b"refresh-token": "OIDC refresh token",
    b"access-token": "access token",
    b"password": "basic-auth password",
    b"client-key-data": "client private key",
}


def kubeconfig_shapes(data: bytes) -> Iterator[Shape]:
    # Fast looks first: "Config" alone is in half the source code there is.
    if b"users:" not in data or b"kind:" not in data or _KIND_CONFIG.search(data) is None:
        return
    users = _USERS.search(data)
    if users is None:
        return
    for match in _CREDENTIAL.finditer(data, users.start()):
        value = match.group(2)
        if placeholder(value):
            continue
        yield Shape(
            match.start(),
            SightingKind.CREDENTIAL_FILE,
            f"Kubernetes {_WHAT[match.group(1)]} (kubeconfig)",
            mask_secret(len(value)),
        )
