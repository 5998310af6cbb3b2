"""One export document from the database: what `ashi export` prints and /export sends."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Content
from bot.records import export
from storage import Score, Storage


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
    the follow-ups sent and every score given in that time), csv (one row per intake),
    scores (CSV, one row per score of intakes and follow-ups) or fhir."""
    records = await storage.intake_records(since=start, until=end, telegram_user_id=patient)
    catalog = content.staff
    if fmt == "csv":
        return export.to_csv(records, catalog, tz)
    scores = await _scores(storage, content, patient, start, end)
    if fmt == "scores":
        return export.scores_csv(scores, catalog, tz)
    if fmt == "fhir":
        from bot.records.fhir import bundle  # imported only when asked for

        followup_scores = [s for s in scores if s.followup_id is not None]
        document = bundle(
            records,
            catalog,
            version=content.version,
            timezone=tz,
            followup_scores=followup_scores,
        )
        return export.dump(document)
    followups = [
        f
        for f in await storage.followup_records(patient)
        if (start is None or (f.message.sent_at is not None and f.message.sent_at >= start))
        and (end is None or (f.message.sent_at is not None and f.message.sent_at < end))
    ]
    return export.to_json(records, catalog, tz, followups, scores)


async def _scores(
    storage: Storage,
    content: Content,
    patient: int | None,
    start: datetime | None,
    end: datetime | None,
) -> list[Score]:
    """Every score (pain, the PSFS) of intakes and follow-ups given in [start, end)."""
    ids = content.questionnaire.scored
    return [
        s
        for s in await storage.scores(ids, telegram_user_id=patient)
        if (start is None or s.at >= start) and (end is None or s.at < end)
    ]
