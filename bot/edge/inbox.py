"""No update lost: each is stored before Telegram may consider it confirmed, and marked
handled only once its handler has run.

Telegram forgets an update as soon as a getUpdates call carries a higher offset. The poller
therefore stores a batch before asking for the next one, and a restart handles whatever was
stored but not finished, before anything new.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from telegram import Bot, Update

from storage import DATABASE_ERRORS, Storage, describe

log = logging.getLogger(__name__)


class UpdateInbox:
    """The database's inbox table, in terms of PTB updates."""

    def __init__(self, storage: Storage, bot: Bot) -> None:
        self._storage = storage
        self._bot = bot

    async def accept(self, updates: Sequence[Update]) -> list[Update]:
        """Store a fetched batch (raises on a database error: the batch must then not be
        confirmed); returns the updates not seen before, in order."""
        fresh = set(
            await self._storage.accept_updates(
                [(u.update_id, json.dumps(u.to_dict(), ensure_ascii=False)) for u in updates]
            )
        )
        return [u for u in updates if u.update_id in fresh]

    async def pending(self) -> list[Update]:
        """Updates stored but not handled (the process ended first), oldest first."""
        found = []
        for _, body in await self._storage.pending_updates():
            update = Update.de_json(json.loads(body), self._bot)
            if update is not None:
                found.append(update)
        return found

    async def finish(self, update: object, outcome: str) -> None:
        """Mark an update handled or dropped; a database error is logged (the update will
        be handled again after a restart, a duplicate rather than a loss)."""
        if not isinstance(update, Update):
            return
        try:
            await self._storage.finish_update(update.update_id, outcome)
        except DATABASE_ERRORS as exc:
            log.error("update %d handled but not recorded: %s", update.update_id, describe(exc))
