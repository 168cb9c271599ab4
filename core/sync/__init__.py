"""Sync with the team server: push the change log, pull by cursor, merge per field, keep every conflict."""
