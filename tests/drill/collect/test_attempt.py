"""A read that fails is data: Unavailable with the reason, whatever raised it."""

from __future__ import annotations

from drill.clouds.errors import StorageError, StorageErrorKind
from drill.collect.attempt import attempt
from drill.model import Unavailable


def _denied() -> int:
    raise StorageError(StorageErrorKind.ACCESS_DENIED, "s3:ListBucket denied on bucket backups.")


def _crashed() -> int:
    raise ConnectionError("DNS lookup failed")


def test_a_value_is_returned_as_it_is() -> None:
    assert attempt(lambda: 42) == 42


def test_a_storage_error_keeps_its_message() -> None:
    assert attempt(_denied) == Unavailable("s3:ListBucket denied on bucket backups.")


def test_any_other_error_keeps_its_type_and_message() -> None:
    assert attempt(_crashed) == Unavailable("ConnectionError: DNS lookup failed")
