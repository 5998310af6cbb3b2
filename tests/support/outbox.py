"""Scheduled messages in the end-to-end tests: booking, a dispatcher against the
emulator, and what it sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from telegram import Bot

from bot.content import Content
from bot.edge.dispatch import Dispatcher, precise_utc_now
from bot.edge.transport import AiohttpRequest
from bot.emulator.models import ApiCall
from bot.emulator.server import BotApiEmulator
from bot.scheduling.appointments import AppointmentBook, NewAppointment
from bot.scheduling.checkins import CheckIns
from bot.scheduling.plan import QuietHours, parse_plan
from bot.settings import Settings
from storage import Appointment, Storage
from tests.e2e.conftest import Person

REMINDER = "Reminder: your appointment"


async def book(
    storage: Storage, plan: str, starts_at: datetime, telegram_user_id: int
) -> Appointment:
    """Book an appointment with its own plan, as the CLI does in another process."""
    appointment = await AppointmentBook(storage, plan=parse_plan(plan)).book(
        NewAppointment(starts_at, telegram_user_id=telegram_user_id)
    )
    assert appointment is not None
    return appointment


def sends_to(emulator: BotApiEmulator, chat_id: int, fragment: str = "") -> list[ApiCall]:
    """Every sendMessage call to the chat (accepted or not) whose text has `fragment`."""
    return [
        call
        for call in emulator.transcript
        if call.method == "sendMessage"
        and call.params.get("chat_id") == chat_id
        and fragment in str(call.params.get("text"))
    ]


def delivered(calls: list[ApiCall]) -> list[ApiCall]:
    return [call for call in calls if call.ok]


@asynccontextmanager
async def dispatcher(
    settings: Settings,
    emulator: BotApiEmulator,
    storage: Storage,
    *,
    quiet: QuietHours | None = None,
    clock: Callable[[], datetime] | None = None,
    retry_base: float = 5.0,
    read_timeout: float = 5.0,
    conversations_active: Callable[[], bool] = lambda: False,
    idle: float = 1.0,
) -> AsyncIterator[Dispatcher]:
    """A Dispatcher wired as build_application wires it, with a Bot (on the bot's own HTTP
    client) on the emulator."""
    checkins = CheckIns(
        storage,
        Content.load(),
        clinic_name=settings.clinic_name,
        clinic_address=settings.clinic_address,
        practitioner_ids=settings.practitioner_ids,
        timezone=settings.timezone,
    )
    request = AiohttpRequest(4, read_timeout=read_timeout)
    async with Bot(emulator.token, base_url=emulator.base_url, request=request) as bot:
        yield Dispatcher(
            storage,
            checkins,
            bot,
            quiet=quiet,
            timezone=settings.timezone,
            clock=clock or precise_utc_now,
            retry_base=retry_base,
            conversations_active=conversations_active,
            idle=idle,
        )


async def chat_started(emulator: BotApiEmulator, user_id: int, storage: Storage) -> None:
    """A patient whose chat with the bot exists, without running the bot's handlers."""
    Person(emulator, user_id, "Sol").send("/start")
    await storage.ensure_patient(user_id, user_id, "en")
