"""``shai doctor``: read-only checks that an inventory is ready for a first run (docs/quickstart.md)."""
