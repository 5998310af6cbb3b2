"""What the clinic hands patients who are not linked yet: their personal link as a QR code
to print, and name, time and link of each booking as CSV for a mail merge."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import segno

from bot.private_files import private_binary, private_text

LINKS_HEADER = ("name", "time", "link")
QR_SCALE = 10  # pixels per module: about 4 cm wide printed at 300 dpi, easy to scan


def write_links(path: Path, rows: Iterable[tuple[str, str, str]]) -> None:
    """Write (name, time, link) rows as CSV with a header, readable by its owner only (a
    personal link lets whoever opens it answer for the patient)."""
    with private_text(path) as out:
        writer = csv.writer(out)
        writer.writerow(LINKS_HEADER)
        writer.writerows(rows)


def write_qr(url: str, path: Path) -> None:
    """Write `url` as a QR code PNG, readable by its owner only."""
    with private_binary(path) as out:
        segno.make(url, error="m").save(out, kind="png", scale=QR_SCALE, border=4)
