"""Writing a user's file safely: into a temporary sibling, renamed over the target only once complete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")


class CannotWrite(Exception):
    """The file cannot be written where asked; the message names the folder and the reason."""


def write_atomically(out: Path | str, write: Callable[[str], T], *, suffix: str = ".partial") -> T:
    """Call write(temp_path), then rename the temp file to `out`; on any failure `out` is untouched.

    The temporary file sits in the target's folder (a rename across file systems is not atomic),
    keeps `suffix` (writers such as openpyxl look at it), and is removed if writing fails or is
    cancelled. Returns what `write` returned.
    """
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise CannotWrite(f"the folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=suffix, dir=folder)
    except OSError as exc:
        raise CannotWrite(f"cannot write in {folder} ({exc.strerror})") from exc
    os.close(fd)
    try:
        result = write(tmp)
        os.replace(tmp, out)
        return result
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
