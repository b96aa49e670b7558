"""drill's exit codes, shared by the CLI and the scheduler that reads its children's."""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    OK = 0  # every finding passed (warnings allowed)
    INTERNAL = 1  # an unexpected internal error
    USAGE = 2  # a config or usage error: one line per problem, with the file, key and reason
    FINDINGS = 3  # a finding failed, or something could not be verified
    BUSY = 4  # drill run: every selected database is being drilled by another process


def interrupted_by(signal_number: int) -> int:
    """The exit code of a run stopped by a signal and recorded as interrupted: 128 + the signal's
    number, as a shell reports a process the signal killed (130 for Ctrl-C, 143 for SIGTERM)."""
    return 128 + signal_number
