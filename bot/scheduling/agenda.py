"""The practitioner's view of today's and upcoming appointments (/today)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import render
from bot.content import Catalog
from bot.intake.outgoing import Reply
from storage import Appointment, Storage

UPCOMING_DAYS = 7


async def intake_state(storage: Storage, appointment: Appointment) -> str:
    """done, in_progress or not_started: how far the patient is with the intake."""
    if await storage.has_completed_intake_for(appointment):
        return "done"
    if appointment.patient_id is not None and await storage.open_intake(appointment.patient_id):
        return "in_progress"
    return "not_started"


async def agenda(storage: Storage, catalog: Catalog, now: datetime, tz: ZoneInfo) -> list[Reply]:
    """Today's appointments and the next seven days', with intake status."""
    today = now.astimezone(tz).date()
    midnight = datetime.combine(today, time(), tz)
    tomorrow = midnight + timedelta(days=1)
    horizon = midnight + timedelta(days=UPCOMING_DAYS + 1)
    lines = [catalog.text("practitioner.today_heading", date=today.isoformat())]
    for heading, start, end, fmt in (
        (None, midnight, tomorrow, "%H:%M"),
        ("practitioner.upcoming_heading", tomorrow, horizon, "%a %d %b %H:%M"),
    ):
        if heading:
            lines += ["", catalog.text(heading)]
        rows = [
            r for r in await storage.appointments_between(start, end) if r[0].status == "scheduled"
        ]
        if not rows:
            lines.append(catalog.text("practitioner.no_appointments"))
        for appointment, first_name in rows:
            state = await intake_state(storage, appointment)
            lines.append(
                catalog.text(
                    "practitioner.appointment_line",
                    when=appointment.starts_at.astimezone(tz).strftime(fmt),
                    patient=first_name or appointment.name or "-",
                    intake=catalog.text(f"practitioner.intake_{state}"),
                )
            )
    return render.pack(lines, separator="\n")
