"""Files of patient data written for the clinic (exports, personal links): owner-only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, TextIO


class SymlinkRefused(OSError):
    """The path is a symbolic link: it could point anywhere, so nothing is written."""


def _private_fd(path: Path) -> int:
    # Never through a symbolic link, and an existing file loses any group or other
    # permission: what is written is patient data.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if path.is_symlink():
            raise SymlinkRefused(exc.errno, f"{path} is a symbolic link: refused") from exc
        raise
    os.fchmod(fd, os.fstat(fd).st_mode & 0o600)
    return fd


def private_text(path: Path) -> TextIO:
    """`path` opened for writing UTF-8 text (created or emptied), readable by its owner only."""
    return os.fdopen(_private_fd(path), "w", encoding="utf-8", newline="")


def private_binary(path: Path) -> BinaryIO:
    """`path` opened for writing bytes (created or emptied), readable by its owner only."""
    return os.fdopen(_private_fd(path), "wb")
