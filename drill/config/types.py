"""The scalar types and the strict, frozen base every part of the TOML contract is built on."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

from drill.durations import parse_duration
from drill.sizes import parse_size


def _duration(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, timedelta):
        return value
    raise ValueError("must be a duration string such as '26h' or '30d'")


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _size(value: object) -> object:
    if isinstance(value, str):
        return parse_size(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise ValueError("must be a size such as '256MiB' or '2GB', or a number of bytes")


ByteSize = Annotated[int, BeforeValidator(_size)]


class Frozen(BaseModel):
    """Unknown keys refused, no coercion of types, no change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
