"""The server fixtures of tests/server, for the Sync view's tests."""

from tests.server.conftest import credentials_file, sqlite_server, sqlite_url  # noqa: F401
