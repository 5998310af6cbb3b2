"""Reminder dispatch: M due outbox rows, the emulator enforcing Telegram's limits.

Patients are created directly: an emulator user who has written to the bot (so the chat
exists; the bot never sees those updates) and a patients row. Each appointment starts in an
hour and schedules one reminder two hours before it: due now, not stale. Appointments go to
patients in turn, so consecutive rows are different chats.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from bot.emulator.models import ApiCall
from bot.emulator.server import BotApiEmulator
from bot.scheduling.appointments import AppointmentBook, NewAppointment
from bot.scheduling.plan import parse_plan
from bot.vocabulary.actions import Action, Verb
from storage import Storage, utc_now

FIRST_PATIENT = 500_001
TELEGRAM_LIMIT = 30.0  # messages per second overall


def appointment_of(call: ApiCall) -> int | None:
    """The appointment whose reminder a successful sendMessage carried (from its button)."""
    markup = call.params.get("reply_markup")
    if not call.ok or call.method != "sendMessage" or not isinstance(markup, dict):
        return None
    action = Action.decode(str(markup["inline_keyboard"][0][0].get("callback_data", "")))
    if action is None or action.verb is not Verb.ATTEND:
        return None
    return action.appointment_id


async def prepare(
    emulator: BotApiEmulator, db_path: Path, messages: int, patients: int
) -> set[int]:
    """Create the patients and book `messages` appointments; returns the appointment ids."""
    ids = [FIRST_PATIENT + i for i in range(patients)]
    storage = await Storage.open(db_path)
    try:
        for user_id in ids:
            emulator.add_user(user_id, f"D{user_id}", language_code="en")
            emulator.send_text(user_id, "/start")
            await storage.ensure_patient(user_id, user_id, "en")
        emulator.world.pending.clear()  # the chats exist; the bot is not to answer these
        book = AppointmentBook(storage, plan=parse_plan("reminder:-2h"))
        starts = utc_now() + timedelta(hours=1)
        booked: set[int] = set()
        for k in range(messages):
            appointment = await book.book(NewAppointment(starts, ids[k % patients]))
            assert appointment is not None
            booked.add(appointment.id)
    finally:
        await storage.close()
    return booked


async def outbox_statuses(db_path: Path) -> Counter[str]:
    """How many outbox rows are in each status."""
    storage = await Storage.open(db_path)
    try:
        counts = await storage.outbox_counts()
    finally:
        await storage.close()
    return Counter(counts)


def measure(emulator: BotApiEmulator, booked: set[int], per_second: float) -> dict[str, object]:
    """Rate, refusals, duplicates and losses from the emulator's transcript."""
    delivered = [(c.time, a) for c in emulator.transcript if (a := appointment_of(c)) is not None]
    counts = Counter(a for _, a in delivered)
    times = sorted(t for t, _ in delivered)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    rate = (len(times) - 1) / span if len(times) > 1 else 0.0
    refusals = Counter(c.error_code for c in emulator.transcript if not c.ok)
    return {
        "messages": len(booked),
        "dispatcher_per_second": per_second,
        "seconds": round(span, 1),
        "achieved_per_second": round(rate, 2),
        "fraction_of_30_per_second": round(rate / TELEGRAM_LIMIT, 3),
        "fraction_of_dispatcher_pace": round(rate / per_second, 3),
        "http_429": refusals.get(429, 0),
        "other_errors": sum(n for code, n in refusals.items() if code != 429),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "lost": len(booked - set(counts)),
        "unknown": len(set(counts) - booked),
    }


def all_delivered(emulator: BotApiEmulator, booked: set[int]) -> bool:
    """True once every booked reminder has been accepted by the emulator at least once."""
    seen = {a for c in emulator.transcript if (a := appointment_of(c)) is not None}
    return booked <= seen
