"""A fact that could not be collected raises its reason when a check needs it; every subject names itself."""

from __future__ import annotations

import pytest

from drill.facts import FactUnavailable, Subject, Unavailable, known
from tests import factories


def test_known_returns_the_fact_and_raises_the_reason_of_an_unavailable_one() -> None:
    assert known(3) == 3
    with pytest.raises(FactUnavailable) as raised:
        known(Unavailable("s3:GetBucketVersioning denied."))
    assert raised.value.reason == "s3:GetBucketVersioning denied."


def test_each_facts_class_names_its_subject() -> None:
    copy = factories.database_target_facts(factories.listing(factories.snapshot()))
    assert copy.subject == Subject(target="vault", database="orders")
    assert factories.database_facts(copy).subject == Subject(database="orders")
    assert factories.target_facts().subject == Subject(target="vault")
