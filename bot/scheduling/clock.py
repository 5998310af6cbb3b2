"""Wall-clock times in the clinic's time zone, as the moments they are."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


class SkippedTime(ValueError):
    """A wall-clock time that does not happen: the clocks skip it going forward."""


def wall_clock_to_utc(local: datetime, timezone: tzinfo) -> datetime:
    """A naive wall-clock time in `timezone`, in UTC. A time that happens twice when the
    clocks go back is the first of the two (fold=0); one they skip raises SkippedTime."""
    aware = local.replace(tzinfo=timezone, fold=0)
    utc = aware.astimezone(UTC)
    # A skipped time does not survive the round trip through UTC.
    if utc.astimezone(timezone).replace(tzinfo=None) != local:
        raise SkippedTime(f"{local:%Y-%m-%d %H:%M} does not exist in {timezone}")
    return utc
