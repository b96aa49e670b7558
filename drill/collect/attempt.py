"""One read, its failure kept as data: every fact collection could not obtain carries its reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from drill.clouds.errors import StorageError
from drill.model import Unavailable

T = TypeVar("T")


def attempt(action: Callable[[], T]) -> T | Unavailable:
    """The action's result, or Unavailable with the reason it failed; never an absent answer."""
    try:
        return action()
    except StorageError as error:
        return Unavailable(str(error))
    except Exception as error:  # an SDK error we did not map (credentials missing, DNS): keep the reason
        return Unavailable(f"{type(error).__name__}: {error}")
