"""The clinic's live calendar (ASHI_CALENDAR_URL), served by a local HTTP server whose
calendar changes between polls: new events are booked, moved ones moved (the patient is
told), removed and cancelled ones cancelled; appointments made by hand are left alone; a
feed that fails or is malformed changes nothing and is logged once."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from aiohttp import web

from bot.emulator.server import BotApiEmulator
from bot.scheduling.appointments import AppointmentBook, NewAppointment
from bot.settings import Settings
from storage import Appointment, AppointmentStatus, Storage, utc_now
from tests.e2e.conftest import Runner, started
from tests.support.waiting import eventually


class CalendarServer:
    """Serves one calendar at /clinic.ics with an ETag, counting requests and 304s."""

    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        self.requests = 0
        self.not_modified = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if self.status != 200:
            return web.Response(status=self.status)
        etag = f'"{hash(self.body) & 0xFFFFFFFF:x}"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304)
        return web.Response(body=self.body, headers={"ETag": etag}, content_type="text/calendar")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/clinic.ics", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/clinic.ics"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def calendar(*events: tuple[str, datetime, str, int | None]) -> bytes:
    """A feed with (uid, start, summary, telegram id) events."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Google Inc//Google Calendar//EN"]
    for uid, start, summary, telegram_id in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTART:{start:%Y%m%dT%H%M%SZ}"]
        lines.append(f"SUMMARY:{summary}")
        if telegram_id is not None:
            lines.append(f"X-ASHI-TELEGRAM-ID:{telegram_id}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
async def feed() -> AsyncIterator[CalendarServer]:
    server = CalendarServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(settings: Settings, feed: CalendarServer) -> Settings:
    return dataclasses.replace(
        settings,
        calendar_url=feed.url,
        calendar_poll=timedelta(seconds=0.2),
        import_exclude=re.compile("lunch", re.IGNORECASE),
        # Whatever the hour the tests run at: quiet hours would hold the notice of a move.
        quiet_hours=None,
    )


async def feed_appointments(settings: Settings) -> dict[str, Appointment]:
    storage = await Storage.open(settings.db_path)
    try:
        found = await storage.appointments_between(None, None)
        return {a.external_id or f"#{a.id}": a for a, _ in found}
    finally:
        await storage.close()


async def test_the_calendar_feed_books_moves_and_cancels_and_leaves_the_rest_alone(
    emulator: BotApiEmulator,
    bot: Runner,
    settings: Settings,
    feed: CalendarServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    soon = (utc_now() + timedelta(days=3)).replace(second=0, microsecond=0)
    feed.body = calendar(
        ("a@google.com", soon, "Jane Doe", None),
        ("b@google.com", soon + timedelta(hours=1), "Lunch break", None),
    )
    storage = await Storage.open(settings.db_path)
    by_hand = await AppointmentBook(storage, plan=()).book(
        NewAppointment(soon + timedelta(hours=2), name="Walk-in Wu")
    )
    await storage.close()
    assert by_hand is not None

    async def booked(*ids: str) -> dict[str, Appointment] | None:
        found = await feed_appointments(settings)
        return found if all(f"feed:ics:{i}" in found for i in ids) else None

    async with bot():
        patient = await started(emulator, 6101, "Kai")
        found = await eventually(lambda: booked("a@google.com"))
        jane = found["feed:ics:a@google.com"]
        assert (jane.name, jane.starts_at, jane.patient_id) == ("Jane Doe", soon, None)
        assert "feed:ics:b@google.com" not in found  # "Lunch break" matches the exclusion

        # A new event for a patient who has started the bot, and Jane moved by an hour.
        feed.body = calendar(
            ("a@google.com", soon + timedelta(hours=1), "Jane Doe", None),
            ("c@google.com", soon + timedelta(days=1), "Kai Kim", patient.id),
        )
        found = await eventually(lambda: booked("a@google.com", "c@google.com"))

        async def moved() -> bool:
            current = await feed_appointments(settings)
            return current["feed:ics:a@google.com"].starts_at == soon + timedelta(hours=1)

        await eventually(moved)
        kai = (await feed_appointments(settings))["feed:ics:c@google.com"]
        assert kai.patient_id is not None  # linked: Kai has started the bot

        # Kai's event moved: Kai is told in Telegram.
        feed.body = calendar(
            ("a@google.com", soon + timedelta(hours=1), "Jane Doe", None),
            ("c@google.com", soon + timedelta(days=2), "Kai Kim", patient.id),
        )
        await patient.sees("has moved to", within=10)

        # A feed that fails, then one that is not a calendar: nothing changes.
        before = await feed_appointments(settings)
        with caplog.at_level(logging.WARNING, logger="bot.edge.calendar_feed"):
            feed.status = 500
            requests = feed.requests
            await eventually(lambda: _true_after(feed, requests + 3))
            feed.status, feed.body = 200, b"<html>sign in</html>"
            requests = feed.requests
            await eventually(lambda: _true_after(feed, requests + 3))
        assert await feed_appointments(settings) == before
        failures = [
            r.getMessage() for r in caplog.records if "calendar feed failed" in r.getMessage()
        ]
        assert failures == ["calendar feed failed (HTTP 500): nothing changed, trying again"]
        assert feed.url not in caplog.text and "Jane" not in caplog.text

        # Jane's event removed: cancelled with her messages; the one booked by hand stays.
        feed.body = calendar(("c@google.com", soon + timedelta(days=2), "Kai Kim", patient.id))

        async def jane_cancelled() -> bool:
            current = await feed_appointments(settings)
            return current["feed:ics:a@google.com"].status is AppointmentStatus.CANCELLED

        await eventually(jane_cancelled)
        requests = feed.requests
        await eventually(lambda: _true_after(feed, requests + 2))
        assert feed.not_modified >= 1  # an unchanged calendar is a 304
    final = await feed_appointments(settings)
    assert final[f"#{by_hand.id}"].status is AppointmentStatus.SCHEDULED
    assert final["feed:ics:c@google.com"].status is AppointmentStatus.SCHEDULED


async def _true_after(feed: CalendarServer, requests: int) -> bool:
    return feed.requests >= requests
