"""One trust backend per cloud target type, picked once; a filesystem target has none."""

from __future__ import annotations

import pytest

from drill.config import TargetType
from drill.trust import PROVIDERS, trust_backend
from drill.trust.aws.access import AwsTrust
from drill.trust.gcp import GcsTrust


def test_each_cloud_type_has_its_backend() -> None:
    assert isinstance(trust_backend(TargetType.S3, {}), AwsTrust)
    assert isinstance(trust_backend(TargetType.GCS, {}), GcsTrust)
    assert PROVIDERS == {TargetType.S3: "aws", TargetType.GCS: "gcp"}


def test_a_filesystem_target_has_no_cloud_backend() -> None:
    with pytest.raises(KeyError, match="no cloud identity"):
        trust_backend(TargetType.FILESYSTEM, {})
