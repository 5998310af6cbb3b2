"""The clinic's calendar feed (ASHI_CALENDAR_URL), fetched by the running bot every
ASHI_CALENDAR_POLL minutes and synchronised (bot.scheduling.calendar_sync). Conditional
requests (ETag, Last-Modified) keep an unchanged calendar to a 304. A feed that fails or
cannot be read is logged once, tried again at the next poll, and changes nothing."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.scheduling.appointments import AppointmentBook
from bot.scheduling.calendar_sync import SyncReport, sync_feed
from bot.scheduling.importer import AppointmentFileError, parse_ics
from bot.settings import Settings
from storage import DATABASE_ERRORS, Storage, describe, utc_now

log = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=60)
MAX_FEED_BYTES = 20 * 2**20  # a clinic's calendar for years is a few MB


class FeedError(Exception):
    """The feed could not be fetched or read; the message says why (no contents)."""


class CalendarFeed:
    """Polls one iCalendar feed and keeps the appointments in step with it."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        assert settings.calendar_url is not None
        self._url = settings.calendar_url
        self._settings = settings
        self._storage = storage
        self._book = AppointmentBook(storage, plan=settings.reminder_plan)
        self._poll = settings.calendar_poll
        self._validators: dict[str, str] = {}  # If-None-Match / If-Modified-Since
        self._failing = False

    async def run(self) -> None:
        """Fetch and synchronise until cancelled."""
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            while True:
                await self.poll_once(session)
                await asyncio.sleep(self._poll.total_seconds())

    async def poll_once(self, session: aiohttp.ClientSession) -> SyncReport | None:
        """One fetch and its changes; None when the feed was unchanged or failed."""
        try:
            data = await self._fetch(session)
            if data is None:
                self._recovered()
                return None
            feed = parse_ics(data, self._settings.timezone, source="ASHI_CALENDAR_URL")
            report = await sync_feed(
                self._book, self._storage, feed, utc_now(), self._settings.import_exclude
            )
        except FeedError as exc:
            self._failed(str(exc))
            return None
        except AppointmentFileError:
            # Its message may quote the file, which names patients: not in the log.
            self._failed("not a readable iCalendar file")
            return None
        except DATABASE_ERRORS as exc:
            self._failed(f"database: {describe(exc)}")
            return None
        self._recovered()
        if report.emptied:
            log.warning("calendar feed holds no appointments: nothing cancelled on its word")
        if report.booked or report.moved or report.updated or report.cancelled or report.rejected:
            log.info(
                "calendar feed: booked %d, moved %d, updated %d, cancelled %d, unreachable %d,"
                " rejected %d",
                report.booked,
                report.moved,
                report.updated,
                report.cancelled,
                report.unreachable,
                report.rejected,
            )
        return report

    async def _fetch(self, session: aiohttp.ClientSession) -> bytes | None:
        try:
            async with session.get(self._url, headers=self._validators) as response:
                if response.status == 304:
                    return None
                if response.status != 200:
                    raise FeedError(f"HTTP {response.status}")
                data = await response.content.read(MAX_FEED_BYTES + 1)
                if len(data) > MAX_FEED_BYTES:
                    raise FeedError(f"larger than {MAX_FEED_BYTES // 2**20} MB")
                self._validators = {
                    header: response.headers[source]
                    for header, source in (
                        ("If-None-Match", "ETag"),
                        ("If-Modified-Since", "Last-Modified"),
                    )
                    if source in response.headers
                }
                return data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise FeedError(type(exc).__name__) from exc

    def _failed(self, why: str) -> None:
        # Once per run of failures: a feed down for a day is one line, not 144.
        if not self._failing:
            log.warning("calendar feed failed (%s): nothing changed, trying again", why)
        self._failing = True
        self._validators = {}  # a feed that failed to read is read whole next time

    def _recovered(self) -> None:
        if self._failing:
            log.info("calendar feed is back")
        self._failing = False
