"""A stand-in for the inbox's accept: a database that refuses the first batch it is given."""

import sqlite3
from collections.abc import Awaitable, Callable, Sequence

from telegram import Update

Accept = Callable[[Sequence[Update]], Awaitable[list[Update]]]


def refusing_first(tries: list[list[int]]) -> Accept:
    """An accept that records each batch's update ids in `tries`, raises a full disk for
    the first, and takes every later one as new."""

    async def accept(updates: Sequence[Update]) -> list[Update]:
        tries.append([u.update_id for u in updates])
        if len(tries) == 1:
            raise sqlite3.OperationalError("database or disk is full")
        return list(updates)

    return accept
