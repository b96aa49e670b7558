"""pgBackRest repository cipher passes, in any file: ``repoN-cipher-pass=`` lines of a
``pgbackrest.conf`` (or a copy, a template rendered, a shell history) and the
``PGBACKREST_REPON_CIPHER_PASS`` variable that sets the same option. Whoever holds the pass can
read an encrypted repository; with the repository's credentials, they hold the backups.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from drill.facts import SightingKind
from drill.trust.exposure.known import mask_secret
from drill.trust.exposure.shape import Shape, placeholder

_OPTION = re.compile(rb"(?m)^[ \t]*(repo[0-9]{1,3})-cipher-pass[ \t]*=[ \t]*([^\r\n]*?)[ \t]*\r?$")
_VARIABLE = re.compile(rb"PGBACKREST_(REPO[0-9]{1,3})_CIPHER_PASS[\"']?[ \t]*[=:][ \t]*[\"']?([^\s\"']+)")


def cipher_pass_shapes(data: bytes) -> Iterator[Shape]:
    if b"cipher-pass" not in data and b"CIPHER_PASS" not in data:
        return
    for pattern, form in ((_OPTION, "option"), (_VARIABLE, "variable")):
        for match in pattern.finditer(data):
            value = match.group(2).strip(b"\"'")
            if not value or placeholder(value):
                continue
            repository = match.group(1).decode().lower()
            yield Shape(
                match.start(),
                SightingKind.CREDENTIAL_FILE,
                f"pgBackRest cipher pass of {repository} ({form})",
                mask_secret(len(value)),
            )
