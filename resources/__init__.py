"""Bundled assets shipped with FieldAtlas (web assets for maps, boundary files); `path()` finds them on disk."""

from __future__ import annotations

from importlib import resources as _resources
from pathlib import Path


def path(*parts: str) -> Path:
    """The file or folder at resources/<parts...> as a real path (the package is installed unzipped)."""
    base = Path(str(_resources.files(__name__)))
    target = base.joinpath(*parts)
    if not target.exists():
        raise FileNotFoundError(f"bundled resource missing: {'/'.join(parts)} (looked in {base})")
    return target
