"""The one typed, versioned settings object (units, currency, data folder, window layout), kept apart from domain data."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

APP = "FieldAtlas"
SETTINGS_VERSION = 1
UNITS = ("mi", "km")
CURRENCIES = ("USD", "CAD", "EUR", "GBP", "AUD")


@dataclass(frozen=True)
class Settings:
    """Everything the user can set; unknown or invalid stored values fall back to defaults."""

    version: int = SETTINGS_VERSION
    units: str = "mi"
    currency: str = "USD"
    data_folder: str = ""
    last_database: str = ""
    tile_url: str = ""
    routing_url: str = ""
    geocoder: str = "nominatim"
    window_geometry: str = ""
    window_state: str = ""
    accounts_header: str = ""
    accounts_splitter: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def data_dir(self) -> Path:
        return Path(self.data_folder) if self.data_folder else default_data_dir()

    def with_changes(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


def default_data_dir() -> Path:
    return Path(os.environ.get("FIELDATLAS_DATA_DIR") or platformdirs.user_data_dir(APP, appauthor=False))


def default_config_dir() -> Path:
    return Path(os.environ.get("FIELDATLAS_CONFIG_DIR") or platformdirs.user_config_dir(APP, appauthor=False))


def settings_path() -> Path:
    return default_config_dir() / "settings.json"


def validate(settings: Settings) -> list[str]:
    """Plain-words problems with these settings; empty when they are fine."""
    problems = []
    if settings.units not in UNITS:
        problems.append(f"units must be one of {', '.join(UNITS)}")
    if settings.currency not in CURRENCIES:
        problems.append(f"currency must be one of {', '.join(CURRENCIES)}")
    if settings.data_folder:
        folder = Path(settings.data_folder)
        if folder.exists() and not folder.is_dir():
            problems.append("the data folder is a file, not a folder")
        elif folder.exists() and not os.access(folder, os.W_OK):
            problems.append("the data folder is read-only")
    for key in ("tile_url", "routing_url"):
        value = getattr(settings, key)
        if value and not value.startswith(("http://", "https://")):
            problems.append(f"{key.replace('_', ' ')} must start with http:// or https://")
    return problems


def load(path: Path | None = None) -> Settings:
    """Read settings; a missing, unreadable or partly invalid file yields defaults for the bad parts."""
    path = path or settings_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(raw, dict):
        return Settings()
    known = {f.name: f for f in fields(Settings)}
    values = {}
    defaults = Settings()
    for key, value in raw.items():
        if key in known and key != "version" and isinstance(value, type(getattr(defaults, key))):
            values[key] = value
    settings = Settings(**values)
    if validate(settings):
        # Keep what is valid field by field rather than dropping the whole file.
        for key in ("units", "currency", "data_folder", "tile_url", "routing_url"):
            if validate(replace(defaults, **{key: getattr(settings, key)})):
                settings = replace(settings, **{key: getattr(defaults, key)})
    return settings


def save(settings: Settings, path: Path | None = None) -> None:
    """Write atomically so a crash never leaves half a settings file."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(settings), fh, indent=2, sort_keys=True)
    os.replace(tmp, path)


def demo_database_path(settings: Settings) -> Path:
    return settings.data_dir() / "demo.fieldatlas.sqlite"
