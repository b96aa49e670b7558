"""What one file holds: the known backup credentials, and the credential shapes of every kind.

Values are searched with ``bytes.find``, one pass per value: measured six times faster than one
compiled alternation of the same twenty values. A whole copy of a known file is one sighting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from drill.facts import CredentialSighting, SightingKind
from drill.trust.exposure.aws import aws_shapes, key_id_shapes
from drill.trust.exposure.env import env_shapes, is_env_file
from drill.trust.exposure.gcp import service_account_shape
from drill.trust.exposure.keys import private_key_shapes
from drill.trust.exposure.known import KnownCredentials, KnownFile, KnownValue
from drill.trust.exposure.kubeconfig import kubeconfig_shapes
from drill.trust.exposure.netrc import netrc_shapes
from drill.trust.exposure.pgbackrest import cipher_pass_shapes
from drill.trust.exposure.pgpass import is_pgpass, looks_like_pgpass, pgpass_shapes
from drill.trust.exposure.shape import Shape

_PREFIX = 4  # known values sharing this many leading bytes are ruled out together


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _shapes(
    name: str, data: bytes, *, env_style: bool, known: KnownCredentials, knows_values: bool
) -> Iterator[Shape]:
    yield from service_account_shape(data, known, knows_values=knows_values)
    yield from aws_shapes(data)
    if env_style or is_env_file(name):
        yield from env_shapes(data)
    # By content, whatever the file is called: a copy under an innocuous name is as exposed.
    if is_pgpass(name) or looks_like_pgpass(data):
        yield from pgpass_shapes(data)
    yield from private_key_shapes(data)
    yield from kubeconfig_shapes(data)
    yield from netrc_shapes(name, data)
    yield from cipher_pass_shapes(data)
    yield from key_id_shapes(data)


class Finder:
    """The known credentials, grouped for a fast search of many files."""

    def __init__(self, known: KnownCredentials) -> None:
        self.known = known
        self.known_sizes = frozenset(file.size for file in known.files)
        groups: dict[bytes, list[KnownValue]] = {}
        for value in known.values:
            groups.setdefault(value.value[:_PREFIX], []).append(value)
        self.prefixes = tuple((prefix, tuple(group)) for prefix, group in groups.items())

    def search(self, path: str, name: str, data: bytes, *, env_style: bool) -> list[CredentialSighting]:
        copy = self.copy_of_known_file(data)
        if copy is not None:
            # The whole file is the credential: one sighting says it, its lines would only repeat it.
            masked = f"•••• (whole file, {copy.size} bytes)"
            return [
                CredentialSighting(path, None, SightingKind.KNOWN_KEY_FILE, copy.what, masked, copy.targets)
            ]
        found: list[CredentialSighting] = []
        for prefix, group in self.prefixes:
            # Key ids share their first four characters (AKIA...): one pass rules out the group.
            if len(group) > 1 and prefix not in data:
                continue
            for known in group:
                start = data.find(known.value)
                while start != -1:
                    found.append(
                        CredentialSighting(
                            path, _line_of(data, start), known.kind, known.what, known.masked, known.targets
                        )
                    )
                    start = data.find(known.value, start + len(known.value))
        covered = {sighting.line for sighting in found}
        shapes = _shapes(name, data, env_style=env_style, known=self.known, knows_values=bool(found))
        for shape in shapes:
            line = _line_of(data, shape.offset)
            last = line if shape.end is None else _line_of(data, shape.end)
            # A known value on these lines (one line of a backup key, say) already says more.
            if any(number in covered for number in range(line, last + 1)):
                continue
            covered.add(line)
            found.append(CredentialSighting(path, line, shape.kind, shape.what, shape.masked, shape.targets))
        return found

    def copy_of_known_file(self, data: bytes) -> KnownFile | None:
        if len(data) not in self.known_sizes:
            return None
        digest = hashlib.sha256(data).digest()
        return next((file for file in self.known.files if file.digest == digest), None)
