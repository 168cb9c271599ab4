"""The FieldAtlas team sync server: FastAPI over SQLite or PostgreSQL; imports core, never desktop."""
