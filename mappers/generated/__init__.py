"""Generated typed message classes, one module per standard (see mappers.generate)."""
