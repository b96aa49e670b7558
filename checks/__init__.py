"""One module per check, named by the check's id; ``drill.registry.discover`` finds them."""
