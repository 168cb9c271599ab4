"""Login tokens on this computer: the OS keyring when there is one, else a private file.

The file (mode 0600, in the FieldAtlas config folder) is used when no keyring backend works, as on a
headless Linux box, or when FIELDATLAS_CREDENTIALS_FILE names one (tests do).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SERVICE = "FieldAtlas sync"


def _file() -> Path:
    named = os.environ.get("FIELDATLAS_CREDENTIALS_FILE")
    if named:
        return Path(named)
    from core.settings import default_config_dir

    return default_config_dir() / "credentials.json"


def _keyring():
    """The keyring module when a real backend is there and no file is forced; else None."""
    if os.environ.get("FIELDATLAS_CREDENTIALS_FILE"):
        return None
    try:
        import keyring
        from keyring.backends import fail

        if isinstance(keyring.get_keyring(), fail.Keyring):
            return None
        return keyring
    except Exception:  # no keyring package, or a broken D-Bus session
        return None


def _key(server: str, email: str) -> str:
    return f"{server.rstrip('/')} {email.lower()}"


def _read_file() -> dict[str, str]:
    path = _file()
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_file(data: dict[str, str]) -> None:
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def where() -> str:
    """Where tokens are kept, in words (for `login` to say)."""
    ring = _keyring()
    return f"the system keyring ({type(ring.get_keyring()).__name__})" if ring else str(_file())


def save_token(server: str, email: str, token: str) -> None:
    ring = _keyring()
    if ring is not None:
        try:
            ring.set_password(SERVICE, _key(server, email), token)
            _remember_last(server, email)
            return
        except Exception:
            pass  # a locked or broken keyring: fall back to the file rather than lose the login
    data = _read_file()
    data[_key(server, email)] = token
    data[f"last {server.rstrip('/')}"] = email.lower()
    _write_file(data)


def _remember_last(server: str, email: str) -> None:
    data = _read_file()
    data[f"last {server.rstrip('/')}"] = email.lower()
    _write_file(data)


def load_token(server: str, email: str) -> str | None:
    ring = _keyring()
    if ring is not None:
        try:
            token = ring.get_password(SERVICE, _key(server, email))
            if token:
                return token
        except Exception:
            pass
    return _read_file().get(_key(server, email))


def last_email(server: str) -> str | None:
    """The email last logged in to this server from this computer."""
    return _read_file().get(f"last {server.rstrip('/')}")


def forget(server: str, email: str) -> None:
    ring = _keyring()
    if ring is not None:
        try:
            ring.delete_password(SERVICE, _key(server, email))
        except Exception:
            pass
    data = _read_file()
    if data.pop(_key(server, email), None) is not None:
        _write_file(data)
