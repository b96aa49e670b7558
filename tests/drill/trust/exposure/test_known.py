"""What drill knows never shows a secret, in a repr or in a mask."""

from __future__ import annotations

from drill.trust.exposure.known import KnownCredentials, mask_identifier, mask_secret
from tests.exposure import BACKUP_KEY, KEY_ID, SECRET, SESSION_TOKEN


def test_known_credentials_never_show_a_secret(known: KnownCredentials) -> None:
    shown = repr(known) + str(known)
    assert SECRET not in shown and SESSION_TOKEN not in shown and BACKUP_KEY.splitlines()[2] not in shown
    assert KEY_ID not in shown


def test_masks_never_show_most_of_a_value() -> None:
    assert mask_identifier("AKIAZ7Q2BACKUPWR1TER") == "AKIA…1TER"
    assert mask_identifier("ab12cd34ef") == "ab…ef"
    assert mask_identifier("short") == "•••• (5 characters)"
    assert mask_secret(40) == "•••• (40 characters)"
