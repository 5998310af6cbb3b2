"""One export document from the database: what `ashi export` prints and /export sends."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Content
from bot.records import export
from storage import Storage


async def export_document(
    storage: Storage,
    content: Content,
    fmt: str,
    tz: ZoneInfo,
    *,
    patient: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> str:
    """Intakes started in [start, end) (of one patient, if given) as `fmt`: json (with
    the follow-ups sent in that time), csv or fhir."""
    records = await storage.intake_records(since=start, until=end, telegram_user_id=patient)
    catalog = content.staff
    if fmt == "csv":
        return export.to_csv(records, catalog, tz)
    if fmt == "fhir":
        from bot.records.fhir import bundle  # imported only when asked for

        return export.dump(bundle(records, catalog, version=content.version, timezone=tz))
    followups = [
        f
        for f in await storage.followup_records(patient)
        if (start is None or (f.message.sent_at is not None and f.message.sent_at >= start))
        and (end is None or (f.message.sent_at is not None and f.message.sent_at < end))
    ]
    return export.to_json(records, catalog, tz, followups)
