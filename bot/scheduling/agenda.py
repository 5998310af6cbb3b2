"""The practitioner's view of appointments: /today and /upcoming."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.scheduling.plan import fresh_intake_since
from bot.vocabulary import rendering
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Button, Reply
from bot.vocabulary.rendering import visible
from storage import Appointment, AppointmentStatus, Attendance, Storage, Visit

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
    """Today's appointments, or those from now to the end of the seventh day after today,
    with intake status
    and marks for urgent red flags, reschedule requests and visits; today's come with
    buttons to record whether each patient came."""
    today = now.astimezone(tz).date()
    midnight = datetime.combine(today, time(), tz)
    if upcoming:
        # From now: what is left of today, then the next seven days.
        start, end, fmt = now, midnight + timedelta(days=8), "%a %d %b %H:%M"
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
    buttons: list[tuple[Button, Button]] = []
    for appointment, first_name in rows:
        state = await intake_state(storage, appointment)
        when = appointment.starts_at.astimezone(tz).strftime(fmt)
        patient = visible(first_name or appointment.name or "") or "-"
        line = catalog.text(
            "practitioner.appointment_line",
            when=when,
            patient=patient,
            intake=catalog.text(f"practitioner.intake_{state}"),
        )
        marks = [
            key
            for key, shown in (
                ("practitioner.urgent_mark", await _urgent(storage, appointment)),
                ("practitioner.reschedule_mark", appointment.attendance is Attendance.RESCHEDULE),
                ("practitioner.attended_mark", appointment.visit is Visit.ATTENDED),
                ("practitioner.no_show_mark", appointment.visit is Visit.NO_SHOW),
            )
            if shown
        ]
        lines.append(" ".join([line, *(catalog.text(key) for key in marks)]))
        if not upcoming:
            buttons.append(visit_buttons(catalog, appointment, when, patient))
    replies = rendering.pack(lines, separator="\n")
    if buttons:
        # Under the last message, so that the buttons come after every line they stand for.
        replies[-1] = Reply(replies[-1].html, tuple(buttons))
    return replies


def visit_buttons(
    catalog: Catalog, appointment: Appointment, when: str, patient: str
) -> tuple[Button, Button]:
    """Came / no-show for one of today's appointments (labels are plain text, the name
    shortened); the recorded one is ticked."""

    def button(visit: Visit, key: str) -> Button:
        tick = rendering.CHECK if appointment.visit is visit else ""
        action = Action(Verb.VISIT, appointment.id, "", visit)
        return Button(f"{tick}{catalog.text(key)}", action.encode())

    came = button(Visit.ATTENDED, "practitioner.attended_button")
    who = f"{when} {patient[: rendering.NAME_IN_BUTTON]}: "
    return Button(who + came.label, came.data), button(Visit.NO_SHOW, "practitioner.no_show_button")
