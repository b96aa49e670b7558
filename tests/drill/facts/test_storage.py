from drill.facts import full_pattern
from tests import factories


def test_prefix_is_a_folder_with_or_without_its_slash() -> None:
    assert full_pattern(factories.target(prefix="pg"), "orders/*") == "pg/orders/*"
    assert full_pattern(factories.target(prefix="/pg/"), "/orders/*") == "pg/orders/*"
    assert full_pattern(factories.target(prefix=""), "orders/*") == "orders/*"
