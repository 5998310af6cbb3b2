"""Chat with the bot through the emulator in a terminal (`ashi demo`). Developer tooling."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.emulator.models import ChatMessage, JsonDict
from bot.emulator.server import BotApiEmulator

HELP = (
    "You are chatting with the bot. Type a message (commands like /start work), a number to "
    "press that button of the latest message with buttons, p and a number (p1) to press that "
    "button of the latest practitioner message (buttons shown as [p1]), or /quit to leave."
)
PROMPT = "you> "
BOT_LABEL = "bot"
POPUP_LABEL = f"{BOT_LABEL} (pop-up)"
STAFF_PREFIX = "p"
START_COMMAND = "/start"
QUIT_COMMAND = "/quit"
NO_REPLY = "(no reply from the bot yet)"
REPLY_TIMEOUT = 10.0
SETTLE_SECONDS = 0.3  # quiet time after a reply, to catch the bot's follow-up messages
WATCH_INTERVAL = 0.02

# Entity type -> (ANSI on, ANSI off); the off codes end only their own attribute.
_ANSI = {
    "bold": ("\033[1m", "\033[22m"),
    "italic": ("\033[3m", "\033[23m"),
    "underline": ("\033[4m", "\033[24m"),
    "strikethrough": ("\033[9m", "\033[29m"),
    "code": ("\033[2m", "\033[22m"),
    "pre": ("\033[2m", "\033[22m"),
}


def render_text(text: str, entities: list[JsonDict], *, color: bool) -> str:
    """Plain text of a message: links as "text (url)", formatting as ANSI when `color`."""
    inserts: list[tuple[int, int, str]] = []  # (utf-16 position, order at that position, text)
    for entity in entities:
        start, end = entity["offset"], entity["offset"] + entity["length"]
        if entity["type"] == "text_link":
            inserts.append((end, 0, f" ({entity['url']})"))
        if color and entity["type"] in _ANSI:
            on, off = _ANSI[entity["type"]]
            inserts.append((start, 1, on))
            inserts.append((end, -1, off))
    units = text.encode("utf-16-le")  # entity offsets count UTF-16 code units
    out: list[str] = []
    previous = 0
    for position, _, insert in sorted(inserts):
        out.append(units[previous * 2 : position * 2].decode("utf-16-le"))
        out.append(insert)
        previous = position
    out.append(units[previous * 2 :].decode("utf-16-le"))
    return "".join(out)


def is_staff_message(message: ChatMessage, is_staff_button: Callable[[str], bool]) -> bool:
    """Whether all of the message's buttons (at least one) are practitioner buttons."""
    buttons = [button for row in message.buttons for button in row]
    return bool(buttons) and all(
        b.callback_data is not None and is_staff_button(b.callback_data) for b in buttons
    )


def render_message(
    message: ChatMessage, *, color: bool, edited: bool = False, staff: bool = False
) -> str:
    """A bot message as terminal lines, buttons numbered from 1 ([p1] for `staff`)."""
    label = f"{BOT_LABEL} (edited)" if edited else BOT_LABEL
    body = render_text(message.text, message.entities, color=color)
    if message.kind != "text":
        size = len(message.document) if message.document is not None else 0
        attachment = f"[{message.kind}: {message.filename or 'file'}, {size} bytes]"
        body = f"{attachment} {body}".rstrip()
    lines = [
        f"{label}: {line}" if i == 0 else f"     {line}" for i, line in enumerate(body.split("\n"))
    ]
    buttons = [button for row in message.buttons for button in row]
    if buttons:
        prefix = STAFF_PREFIX if staff else ""
        numbered = (f"[{prefix}{n}] {b.text}" for n, b in enumerate(buttons, 1))
        lines.append("     " + "  ".join(numbered))
    return "\n".join(lines) + "\n"


@dataclass
class _Watcher:
    """Prints new, edited and deleted bot messages and pop-up answers to button presses;
    counts what it printed."""

    emulator: BotApiEmulator
    user_id: int
    write: Callable[[str], None]
    color: bool
    is_staff_button: Callable[[str], bool]
    printed: int = 0
    pressed: list[str] = field(default_factory=list)
    """Callback query ids of presses the bot has not answered yet."""

    def __post_init__(self) -> None:
        self.seen = {m.message_id: self._snapshot(m) for m in self._messages()}

    def _messages(self) -> list[ChatMessage]:
        return self.emulator.bot_messages(self.user_id)

    @staticmethod
    def _snapshot(message: ChatMessage) -> tuple[object, ...]:
        buttons = [[(b.text, b.callback_data, b.url) for b in row] for row in message.buttons]
        return (message.text, repr(message.entities), repr(buttons), message.kind)

    def scan(self) -> None:
        current = self._messages()
        for message in current:
            snapshot = self._snapshot(message)
            previous = self.seen.get(message.message_id)
            if previous == snapshot:
                continue
            self.seen[message.message_id] = snapshot
            self.write(self._render(message, previous))
            self.printed += 1
        alive = {m.message_id for m in current}
        for message_id in [i for i in self.seen if i not in alive]:
            del self.seen[message_id]
            self.write(f"{BOT_LABEL}: (deleted a message)\n")
            self.printed += 1
        # After the messages: the bot answers a press last, once its edits and replies are out.
        for query_id in list(self.pressed):
            query = self.emulator.callback_query(query_id)
            if not query.answered:
                continue
            self.pressed.remove(query_id)
            if query.answer_text:
                self.write(f"{POPUP_LABEL}: {query.answer_text}\n")
                self.printed += 1

    def _render(self, message: ChatMessage, previous: tuple[object, ...] | None) -> str:
        """A new message in full; an edit that only added lines or changed buttons shortly,
        so that the person is not shown the same long text twice."""
        staff = is_staff_message(message, self.is_staff_button)
        if previous is None:
            return render_message(message, color=self.color, staff=staff)
        old_text = str(previous[0])
        if message.kind == "text" and message.text.startswith(old_text):
            added = message.text[len(old_text) :].strip("\n")
            short = ChatMessage(
                message_id=message.message_id,
                from_bot=True,
                text=added or "(buttons changed)",
                buttons=message.buttons,
            )
            return render_message(short, color=False, edited=True, staff=staff)
        return render_message(message, color=self.color, edited=True, staff=staff)

    async def run(self) -> None:
        while True:
            self.scan()
            await asyncio.sleep(WATCH_INTERVAL)


async def _wait_for_reply(watcher: _Watcher, before: int, seconds: float) -> bool:
    """Wait for output after `before`, then for a short quiet spell; False on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while watcher.printed == before:
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(WATCH_INTERVAL)
    last, quiet_since = watcher.printed, loop.time()
    while loop.time() - quiet_since < SETTLE_SECONDS and loop.time() < deadline:
        await asyncio.sleep(WATCH_INTERVAL)
        if watcher.printed != last:
            last, quiet_since = watcher.printed, loop.time()
    return True


_BUTTON_INPUT = re.compile(rf"({STAFF_PREFIX}?)([0-9]+)", re.IGNORECASE)


class _NotPressed(Exception):
    """Input naming a button that cannot be pressed; the message says why."""


def _press(watcher: _Watcher, number: int, *, staff: bool) -> None:
    """Press button `number` of the latest bot message with patient buttons, or with
    practitioner buttons if `staff`; raises _NotPressed."""
    emulator, user_id = watcher.emulator, watcher.user_id
    with_buttons = [
        m
        for m in emulator.bot_messages(user_id)
        if m.buttons and is_staff_message(m, watcher.is_staff_button) == staff
    ]
    prefix = STAFF_PREFIX if staff else ""
    if not with_buttons:
        kind = "practitioner buttons" if staff else "buttons"
        raise _NotPressed(f"(there are no {kind} to press)")
    message = with_buttons[-1]
    buttons = [button for row in message.buttons for button in row]
    if not 1 <= number <= len(buttons):
        raise _NotPressed(f"(choose a button from {prefix}1 to {prefix}{len(buttons)})")
    button = buttons[number - 1]
    if button.callback_data is None:
        raise _NotPressed(f"(that button opens {button.url})")
    query_id = emulator.press_button(user_id, message.message_id, button.callback_data)
    watcher.pressed.append(query_id)


async def chat_in_terminal(
    emulator: BotApiEmulator,
    user_id: int,
    *,
    read_line: Callable[[], Awaitable[str | None]],
    write: Callable[[str], None],
    color: bool = False,
    help_text: str = HELP,
    prompt: str = PROMPT,
    reply_timeout: float = REPLY_TIMEOUT,
    first_message: str | None = START_COMMAND,
    is_staff_button: Callable[[str], bool] = lambda _: False,
) -> None:
    """Run an interactive chat as `user_id` until /quit or end of input.

    `first_message` is sent on the person's behalf (and shown) before the first prompt, so
    that the bot speaks first. Buttons whose callback data `is_staff_button` are a
    practitioner's: a message with only those is shown as [p1] .. and pressed with "p1".
    """
    watcher = _Watcher(emulator, user_id, write, color, is_staff_button)
    task = asyncio.create_task(watcher.run())
    write(help_text + "\n")
    try:
        if first_message is not None:
            write(f"{prompt}{first_message}\n")
            await _send_and_wait(watcher, first_message, reply_timeout)
        while True:
            write(prompt)
            line = await read_line()
            if line is None:
                write("\n")
                return
            text = line.strip()
            if text == QUIT_COMMAND:
                return
            if text:
                await _send_and_wait(watcher, text, reply_timeout)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _send_and_wait(watcher: _Watcher, text: str, reply_timeout: float) -> None:
    """Send the text or press the button it names, then wait for the bot's reply."""
    before = watcher.printed
    button = _BUTTON_INPUT.fullmatch(text)
    if button is not None:
        try:
            _press(watcher, int(button[2]), staff=bool(button[1]))
        except _NotPressed as problem:
            watcher.write(f"{problem}\n")
            return
    else:
        watcher.emulator.send_text(watcher.user_id, text)
    if not await _wait_for_reply(watcher, before, reply_timeout):
        watcher.write(NO_REPLY + "\n")
