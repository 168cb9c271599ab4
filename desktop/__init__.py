"""FieldAtlas desktop: the PySide6 GUI and the `fieldatlas` command line that mirrors it."""
