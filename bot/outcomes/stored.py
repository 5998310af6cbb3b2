"""What a patient's stored scores give: their chart as a photo to send, and the activities
to rate again at their next visit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.outcomes import chart
from bot.outcomes.views import readings_of
from bot.questionnaire import Measure, Questionnaire
from bot.scores.activities import Activities, carried_over, parse
from bot.vocabulary.outgoing import Photo
from storage import AppointmentStatus, Patient, Score, Storage, Visit, utc_now

_DRAWING = asyncio.Lock()


async def course_photos(
    storage: Storage,
    catalog: Catalog,
    patient: Patient,
    scores: Sequence[Score],
    tz: ZoneInfo,
    caption: str,
) -> list[Photo]:
    """The chart of a patient's scores with `caption`; none when they have no score."""
    now = utc_now()
    visits = [
        a.starts_at
        for a in await storage.patient_appointments(patient.id)
        # Visits that took place (or are not recorded otherwise): no-shows are left out.
        if a.status is AppointmentStatus.SCHEDULED
        and a.starts_at <= now
        and a.visit is not Visit.NO_SHOW
    ]
    found = readings_of(catalog.questionnaire, scores)
    # Drawn beside the event loop (about 0.13 s a chart, 2 s for the first, which loads
    # matplotlib), one at a time: matplotlib's settings are shared by the whole process.
    async with _DRAWING:
        drawing = await asyncio.to_thread(chart.draw, catalog, found, visits, tz)
    return [] if drawing is None else [Photo(drawing.png, caption)]


async def activities_to_rate(
    storage: Storage, questions: Questionnaire, telegram_user_id: int
) -> Activities:
    """A new visit's activities question, starting from the activities the patient rated
    at their latest visit that had any (none at a first visit)."""
    scores = await storage.scores(
        questions.measured(Measure.FUNCTION), telegram_user_id=telegram_user_id
    )
    # The latest visit that rated them all: one left half-way is passed over.
    rated = [a for s in scores if (a := parse(s.value)) and a.rated and a.waiting is None]
    return carried_over(rated[-1] if rated else None)
