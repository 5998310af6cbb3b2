"""Counting database round trips: what a patient's press costs the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.vocabulary.outgoing import Outcome
from storage import Storage

# The connection's calls that each run a statement (or a script) at once.
STATEMENTS = ("execute", "execute_fetchall", "executemany", "executescript")


class RoundTrips:
    """The work a storage's connection is given: each statement outside a transaction, and
    each transaction (however many statements it holds), with their SQL."""

    def __init__(self, storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
        self.trips: list[str] = []
        connection = storage._db
        for name in STATEMENTS:
            call = getattr(connection, name)
            monkeypatch.setattr(connection, name, self._statement(connection, call))
        transaction = connection.transaction

        def counted_transaction() -> Any:
            self.trips.append("a transaction")
            return transaction()

        monkeypatch.setattr(connection, "transaction", counted_transaction)

    def _statement(self, connection: Any, call: Callable[..., Any]) -> Callable[..., Any]:
        def counted(sql: str, *args: Any) -> Any:
            if not connection.in_transaction:
                self.trips.append(sql)
            return call(sql, *args)

        return counted

    async def of(self, action: Callable[[], Awaitable[Outcome]]) -> tuple[int, Outcome]:
        """The trips `action` takes, and its outcome."""
        before = len(self.trips)
        outcome = await action()
        return len(self.trips) - before, outcome
