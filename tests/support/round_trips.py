"""Counting database round trips: what a patient's press costs the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from bot.vocabulary.outgoing import Outcome
from storage import Storage


def trips_in(statements: Iterable[str]) -> int:
    """Every statement outside a transaction, and every transaction (BEGIN to COMMIT) as one."""
    trips, open_transaction = 0, False
    for sql in statements:
        if sql.startswith("--"):  # a trigger's statement, inside its caller's
            continue
        if not open_transaction:
            trips += 1
            open_transaction = sql.startswith("BEGIN")
        elif sql in ("COMMIT", "ROLLBACK"):
            open_transaction = False
    return trips


class RoundTrips:
    """The statements SQLite reports running on a storage's connection, as they run."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @classmethod
    async def on(cls, storage: Storage) -> RoundTrips:
        counter = cls()
        await storage._db.trace(counter.statements.append)
        return counter

    async def of(self, action: Callable[[], Awaitable[Outcome]]) -> tuple[int, Outcome]:
        """The trips `action` takes, and its outcome."""
        before = len(self.statements)
        outcome = await action()
        return trips_in(self.statements[before:]), outcome
