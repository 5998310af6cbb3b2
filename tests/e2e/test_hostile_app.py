"""Property-based, through Telegram: random updates from interleaved patients against the
running bot (the same bot for every example, new patients each time). Every update is
answered, nothing raises in a handler, no patient sees another's data, and the database
stays consistent. tests/unit/test_hostile_property.py runs many more examples against the
domain layer."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiosqlite
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.emulator.server import BotApiEmulator
from bot.settings import Settings
from bot.vocabulary.actions import Action
from tests.e2e.conftest import PRACTITIONER_ID, Runner
from tests.support.hostile import HOSTILE_TEXTS, INTAKE_VERBS, forged_data

USER_IDS = itertools.count(300_000, 10)
COMMANDS = (
    "/start",
    "/start spring_flyer",
    "/start ../../x",
    "/start " + "a" * 80,
    "/cancel",
    "/delete",
    "/language",
    "/mydata",
    "/help",
    "/guide",
    "/reminders off",
    "/today",
    "/patient 1",
    "/export",
    "/nonsense",
)


@dataclass(frozen=True)
class Update:
    patient: int
    kind: str
    text: str = ""
    index: int = 0


updates = st.one_of(
    st.builds(Update, st.integers(0, 1), st.just("tap"), index=st.integers(0, 20)),
    st.builds(Update, st.integers(0, 1), st.just("tap"), index=st.integers(0, 20)),
    st.builds(Update, st.integers(0, 1), st.just("tap"), index=st.integers(0, 20)),
    st.builds(Update, st.integers(0, 1), st.just("stale"), index=st.integers(0, 50)),
    st.builds(Update, st.integers(0, 1), st.just("foreign"), index=st.integers(0, 50)),
    st.builds(Update, st.integers(0, 1), st.just("forged"), text=forged_data()),
    st.builds(
        Update,
        st.integers(0, 1),
        st.just("text"),
        text=st.sampled_from(HOSTILE_TEXTS[1:]) | st.text(min_size=1, max_size=40),
    ),
    st.builds(Update, st.integers(0, 1), st.just("command"), text=st.sampled_from(COMMANDS)),
    st.builds(Update, st.integers(0, 1), st.sampled_from(["sticker", "photo", "edit"])),
)


def marker(user_id: int) -> str:
    return f"MARK{user_id}X"


def visible(emulator: BotApiEmulator, chat_id: int) -> str:
    """Everything the bot has shown in the chat: texts, captions, files, button labels."""
    parts = []
    for m in emulator.bot_messages(chat_id):
        parts.append(m.text)
        parts += [b.text for row in m.buttons for b in row]
        if m.document is not None:
            parts.append(m.document.decode("utf-8", "replace"))
    return "\n".join(parts)


def buttons(emulator: BotApiEmulator, chat_id: int) -> list[tuple[int, str]]:
    """(message id, callback data) of every button in the chat, oldest first."""
    return [
        (m.message_id, b.callback_data)
        for m in emulator.bot_messages(chat_id)
        for row in m.buttons
        for b in row
        if b.callback_data
    ]


async def send(emulator: BotApiEmulator, user_id: int, update: Update) -> None:
    """Send one update and wait until the bot has answered it."""
    last = max((m.message_id for m in emulator.chat(user_id)), default=0)
    query = None
    mine = buttons(emulator, user_id)
    newest = max((mid for mid, _ in mine), default=None)
    if update.kind == "tap" and newest is not None:
        current = [(mid, data) for mid, data in mine if mid == newest]
        mid, data = current[update.index % len(current)]
        query = emulator.press_button(user_id, mid, data)
    elif update.kind == "stale" and mine:
        mid, data = mine[update.index % len(mine)]
        query = emulator.press_raw(user_id, mid, data)
    elif update.kind == "foreign" and newest is not None:
        others = [
            data for uid in range(user_id - 9, user_id + 10) for _, data in buttons(emulator, uid)
        ]
        others += [data for _, data in buttons(emulator, PRACTITIONER_ID)]
        if not others:
            return
        query = emulator.press_raw(user_id, newest, others[update.index % len(others)])
    elif update.kind == "forged" and newest is not None:
        query = emulator.press_raw(user_id, newest, update.text or "x")
    elif update.kind == "text":
        emulator.send_text(user_id, f"{update.text} {marker(user_id)}"[:4096])
    elif update.kind == "command":
        emulator.send_text(user_id, update.text)
    elif update.kind == "sticker":
        emulator.send_sticker(user_id)
    elif update.kind == "photo":
        emulator.send_photo(user_id)
    elif update.kind == "edit":
        sent = [m for m in emulator.chat(user_id) if not m.from_bot and m.kind == "text"]
        if not sent:
            return
        emulator.edit_text(user_id, sent[-1].message_id, f"edited {marker(user_id)}")
    else:
        return  # a button update while the chat has no buttons yet
    if query is not None:
        await emulator.wait_for(lambda: emulator.callback_query(query).answered)
    else:
        await emulator.wait_for(
            lambda: any(m.message_id > last for m in emulator.bot_messages(user_id))
        )


async def check_database(settings: Settings, emulator: BotApiEmulator, users: list[int]) -> None:
    """One intake in progress at most; nothing answered past the step; each patient's text
    only in their own intakes, and only their own intakes' buttons in their chat."""
    async with aiosqlite.connect(settings.db_path) as db:
        owned: dict[int, set[int]] = {}
        async with db.execute(
            "SELECT p.telegram_user_id, i.id FROM intakes i JOIN patients p ON p.id = i.patient_id"
        ) as cursor:
            for user_id, intake_id in await cursor.fetchall():
                owned.setdefault(user_id, set()).add(intake_id)
        async with db.execute(
            "SELECT p.telegram_user_id, a.value FROM answers a JOIN intakes i"
            " ON i.id = a.intake_id JOIN patients p ON p.id = i.patient_id"
        ) as cursor:
            for user_id, value in await cursor.fetchall():
                assert not any(marker(u) in value for u in users if u != user_id), value
        everyone = set().union(*owned.values()) if owned else set()
        for user_id in users:
            for _, data in buttons(emulator, user_id):
                action = Action.decode(data)
                if action is not None and action.verb in INTAKE_VERBS:
                    theirs = action.intake_id in everyone - owned.get(user_id, set())
                    assert not theirs, (user_id, data)
        async with db.execute(
            "SELECT patient_id FROM intakes WHERE status = 'in_progress'"
            " GROUP BY patient_id HAVING COUNT(*) > 1"
        ) as cursor:
            assert list(await cursor.fetchall()) == []
        async with db.execute(
            "SELECT COUNT(*) FROM answers a JOIN intakes i ON i.id = a.intake_id"
            " WHERE i.status = 'in_progress' AND a.question_id NOT IN"
            " ('areas', 'areas_other', 'cause', 'intensity', 'duration', 'ashi_point')"
            " AND i.step IN ('areas', 'areas_other', 'cause')"
        ) as cursor:
            row = await cursor.fetchone()
            assert row is not None and row[0] == 0  # nothing answered beyond the step


@pytest.fixture
async def running(bot: Runner) -> AsyncIterator[None]:
    async with bot():
        yield


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(updates, min_size=1, max_size=8))
async def test_random_updates_through_telegram_are_answered_and_kept_apart(
    emulator: BotApiEmulator,
    settings: Settings,
    running: None,
    caplog: pytest.LogCaptureFixture,
    sequence: list[Update],
) -> None:
    users = [next(USER_IDS) for _ in range(2)]
    for n, user_id in enumerate(users):
        emulator.add_user(user_id, f"<b>P{n}</b>", language_code=("en", "ko")[n])
        # Consent first: from then on the patient's texts are stored (and could leak).
        await send(emulator, user_id, Update(n, "command", "/start"))
        await send(emulator, user_id, Update(n, "tap", index=0))
    for update in sequence:
        await send(emulator, users[update.patient], update)
    for user_id in users:
        shown = visible(emulator, user_id)
        for other in users:
            if other != user_id:
                assert marker(other) not in shown
    await check_database(settings, emulator, users)
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == [], [r.getMessage() for r in failures]
