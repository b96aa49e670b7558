"""drill's exit codes, shared by the CLI and the scheduler that reads its children's."""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    OK = 0  # every finding passed (warnings allowed)
    INTERNAL = 1  # an unexpected internal error
    USAGE = 2  # a config or usage error: one line per problem, with the file, key and reason
    FINDINGS = 3  # a finding failed, or something could not be verified
    BUSY = 4  # drill run: every selected database is being drilled by another process
