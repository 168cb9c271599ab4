"""The one way into a FieldAtlas database file: opening, schema history, backups and logged writes."""

from core.storage.database import (  # noqa: F401
    DatabaseError,
    DatabaseLocked,
    DatabaseMissing,
    CorruptDatabase,
    NewerSchema,
    NotADatabase,
    ReadOnlyLocation,
    Store,
    open_database,
)
