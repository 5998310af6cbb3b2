"""The practitioner's view of appointments: /today and /upcoming."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.scheduling.plan import fresh_intake_since
from bot.vocabulary import rendering
from bot.vocabulary.outgoing import Reply
from storage import Appointment, AppointmentStatus, Storage

UPCOMING_DAYS = 7


async def intake_state(storage: Storage, appointment: Appointment) -> str:
    """done, in_progress or not_started: how far the patient is with the intake."""
    if await storage.has_completed_intake_for(
        appointment, fresh_intake_since(appointment.starts_at)
    ):
        return "done"
    if appointment.patient_id is not None and await storage.open_intake(appointment.patient_id):
        return "in_progress"
    return "not_started"


async def _urgent(storage: Storage, appointment: Appointment) -> bool:
    if appointment.patient_id is None:
        return False
    patient = await storage.patient(appointment.patient_id)
    if patient is None:
        return False
    latest = await storage.intake_records(
        telegram_user_id=patient.telegram_user_id, newest_first=True, limit=1
    )
    return bool(latest and latest[0].intake.urgent)


async def agenda(
    storage: Storage, catalog: Catalog, now: datetime, tz: ZoneInfo, *, upcoming: bool
) -> list[Reply]:
    """Today's appointments, or the next seven days' (from tomorrow), with intake status
    and a mark for urgent red flags."""
    today = now.astimezone(tz).date()
    midnight = datetime.combine(today, time(), tz)
    if upcoming:
        start, end, fmt = (
            midnight + timedelta(days=1),
            midnight + timedelta(days=8),
            "%a %d %b %H:%M",
        )
        lines = [catalog.text("practitioner.upcoming_heading")]
    else:
        start, end, fmt = midnight, midnight + timedelta(days=1), "%H:%M"
        lines = [catalog.text("practitioner.today_heading", date=today.isoformat())]
    rows = [
        r
        for r in await storage.appointments_between(start, end)
        if r[0].status is AppointmentStatus.SCHEDULED
    ]
    if not rows:
        lines.append(catalog.text("practitioner.no_appointments"))
    for appointment, first_name in rows:
        state = await intake_state(storage, appointment)
        line = catalog.text(
            "practitioner.appointment_line",
            when=appointment.starts_at.astimezone(tz).strftime(fmt),
            patient=first_name or appointment.name or "-",
            intake=catalog.text(f"practitioner.intake_{state}"),
        )
        if await _urgent(storage, appointment):
            line += " " + catalog.text("practitioner.urgent_mark")
        lines.append(line)
    return rendering.pack(lines, separator="\n")
