"""Generic rendering: answers as text, question keyboards, names, times, and packing long
text into messages that Telegram accepts. All escaping of user text happens in `Catalog.text`
(through `fill`) and here."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.questionnaire import Kind
from bot.scores.activities import DONE, DROP, MAX_NAME, SKIP, Activities, parse
from bot.scores.measures import shown
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Button, Keyboard, Reply
from storage import Patient

MAX_MESSAGE = 4096
SCALE_ROWS = ((0, 1, 2, 3, 4, 5), (6, 7, 8, 9, 10))
CHECK = "✅ "
NAME_IN_BUTTON = 24  # characters of a name on a button, so that the rest of its label shows


def answer_label(catalog: Catalog, question_id: str, value: object) -> str:
    """An answer as plain text in the catalog's language."""
    q = catalog.questionnaire.question(question_id)
    if q.kind is Kind.MULTI and isinstance(value, list):
        return ", ".join(catalog.option(question_id, str(code)) for code in value)
    if q.kind in (Kind.CHOICE, Kind.YES_NO) and isinstance(value, str):
        return catalog.option(question_id, value)
    if q.kind is Kind.ACTIVITIES and (activities := parse(value)) is not None:
        return activities_label(catalog, activities)
    if value is None:
        return catalog.text("summary.skipped")
    return str(value)


def question_keyboard(
    catalog: Catalog,
    owner_id: int,
    question_id: str,
    answers: Mapping[str, object],
    followup: bool = False,
) -> Keyboard:
    """The buttons of a question; `owner_id` is the intake's (or follow-up message's) id."""
    q = catalog.questionnaire.question(question_id)
    answer_verb = Verb.FOLLOWUP_ANSWER if followup else Verb.ANSWER
    skip_verb = Verb.FOLLOWUP_SKIP if followup else Verb.SKIP

    def answer(code: str, label: str) -> Button:
        return Button(label, Action(answer_verb, owner_id, q.id, code).encode())

    if q.kind is Kind.SCALE:
        return tuple(tuple(answer(str(n), str(n)) for n in row) for row in SCALE_ROWS)
    if q.kind is Kind.YES_NO:
        return (tuple(answer(code, catalog.option(q.id, code)) for code in q.codes),)
    if q.kind is Kind.CHOICE:
        return tuple((answer(code, catalog.option(q.id, code)),) for code in q.codes)
    if q.kind is Kind.MULTI:
        chosen = answers.get(q.id)
        selected = set(chosen) if isinstance(chosen, list) else set()
        rows = [
            (
                Button(
                    (CHECK if code in selected else "") + catalog.option(q.id, code),
                    Action(Verb.TOGGLE, owner_id, q.id, code).encode(),
                ),
            )
            for code in q.codes
        ]
        done = Button(catalog.text("flow.done_button"), Action(Verb.DONE, owner_id, q.id).encode())
        return (*rows, (done,))
    if q.optional:
        skip = Button(catalog.text("flow.skip_button"), Action(skip_verb, owner_id, q.id).encode())
        return ((skip,),)
    return ()


def activities_label(catalog: Catalog, activities: Activities) -> str:
    """A PSFS answer as plain text: each rated activity and the score."""
    score = activities.score
    if score is None:
        return catalog.text("summary.skipped")
    listed = "; ".join(f"{a.name}: {a.rating}" for a in activities.rated)
    # The template is plain text: filled (which escapes) and read back as plain text.
    return html.unescape(catalog.text("activities.label", activities=listed, score=shown(score)))


def activities_reply(
    catalog: Catalog,
    owner_id: int,
    question_id: str,
    value: object,
    position: tuple[int, int],
    *,
    followup: bool = False,
) -> Reply:
    """An activities question (the PSFS) at its current step: the activities so far, then
    the next one to rate (its rating of the visit before quoted), or room to type one."""
    verb = Verb.FOLLOWUP_ANSWER if followup else Verb.ANSWER
    answer = parse(value) or Activities()

    def button(label: str, code: str) -> Button:
        return Button(label, Action(verb, owner_id, question_id, code).encode())

    number, total = position
    parts = [
        catalog.text("flow.progress", number=number, total=total),
        _activities_heading(catalog, question_id, answer),
    ]
    listed = [catalog.text("activities.listed", name=a.name, rating=a.rating) for a in answer.rated]
    if listed:
        parts.append("\n".join(listed))
    index = answer.waiting
    if index is not None:
        activity = answer.items[index]
        if activity.before is None:
            parts.append(catalog.text("activities.rate", name=activity.name))
        else:
            parts.append(
                catalog.text("activities.rerate", name=activity.name, before=activity.before)
            )
        keyboard: Keyboard = tuple(
            tuple(button(str(n), f"{index}_{n}") for n in row) for row in SCALE_ROWS
        )
        if activity.before is not None:
            drop = button(catalog.text("activities.drop_button"), f"{index}_{DROP}")
            keyboard = (*keyboard, (drop,))
        return Reply("\n\n".join(parts), keyboard)
    if answer.items:
        parts.append(catalog.text("activities.another"))
        finish = button(catalog.text("flow.done_button"), DONE)
    else:
        parts.append(catalog.text("activities.first"))
        finish = button(catalog.text("flow.skip_button"), SKIP)
    return Reply("\n\n".join(parts), ((finish,),))


def add_activity(catalog: Catalog, before: Activities, typed: str) -> Activities | Reply:
    """The answer with a typed activity added, or the kind words saying why it is not
    (the activity waiting for its rating comes first)."""
    waiting = before.waiting
    if waiting is not None:
        return Reply(catalog.text("activities.rate_first", name=before.items[waiting].name))
    added = before.add(typed)
    if isinstance(added, Activities):
        return added
    return Reply(catalog.text(f"activities.{added}", limit=MAX_NAME, name=" ".join(typed.split())))


def _activities_heading(catalog: Catalog, question_id: str, answer: Activities) -> str:
    """The question's full instructions while nothing is given yet at this visit; after
    that its short name, so that each step of it is not a wall of text on a phone."""
    fresh = not answer.rated and all(a.before is not None for a in answer.items)
    if fresh:
        return catalog.prompt(question_id)
    return f"<b>{html.escape(catalog.short(question_id), quote=False)}</b>"


def activity_step(catalog: Catalog, question_id: str, before: Activities, code: str) -> Reply:
    """A pressed step of an activities question, as its message now reads (its heading and
    what was chosen, no buttons)."""
    if code in (DONE, SKIP):
        label = catalog.text("flow.skip_button" if code == SKIP else "flow.done_button")
        chosen = catalog.text("flow.chosen", answer=label)
    else:
        index, _, rating = code.partition("_")
        name = before.items[int(index)].name  # a press that `activities.press` took
        if rating == DROP:
            chosen = catalog.text("activities.dropped", name=name)
        else:
            chosen = catalog.text("activities.chosen", name=name, rating=rating)
    return Reply(f"{_activities_heading(catalog, question_id, before)}\n\n{chosen}")


def followup_reply(
    catalog: Catalog,
    message_id: int,
    question_id: str,
    asked: tuple[str, ...] | None = None,
    value: object = None,
) -> Reply:
    """A follow-up question as sent, its buttons bound to the follow-up message; numbered
    among the questions `asked` in this check-in (all of them by default)."""
    ids = asked or catalog.questionnaire.followup_order
    position = (ids.index(question_id) + 1 if question_id in ids else len(ids), len(ids))
    if catalog.questionnaire.question(question_id).kind is Kind.ACTIVITIES:
        return activities_reply(catalog, message_id, question_id, value, position, followup=True)
    keyboard = question_keyboard(catalog, message_id, question_id, {}, followup=True)
    return ask(catalog, question_id, *position, keyboard)


def ask(catalog: Catalog, question_id: str, number: int, total: int, keyboard: Keyboard) -> Reply:
    """A question as sent: "Question n of N", its prompt, how to answer, its buttons."""
    parts = [catalog.text("flow.progress", number=number, total=total), catalog.prompt(question_id)]
    kind = catalog.questionnaire.question(question_id).kind
    if kind is Kind.MULTI:
        parts.append(catalog.text("flow.choose_many"))
    elif kind is Kind.TEXT:
        parts.append(catalog.text("flow.type_answer"))
    return Reply("\n\n".join(parts), keyboard)


def answered(catalog: Catalog, question_id: str, value: object) -> Reply:
    """A question after it was answered: its prompt and the answer, no buttons."""
    chosen = catalog.text("flow.chosen", answer=answer_label(catalog, question_id, value))
    return Reply(f"{catalog.prompt(question_id)}\n\n{chosen}")


def button_row(catalog: Catalog, buttons: Iterable[tuple[str, Action]]) -> Keyboard:
    """One row of buttons from (label key, action) pairs."""
    return (tuple(Button(catalog.text(label), action.encode()) for label, action in buttons),)


def choice(
    catalog: Catalog, text_key: str, buttons: Iterable[tuple[str, Action]], **params: object
) -> Reply:
    """A message with one row of buttons: (label key, action) pairs."""
    return Reply(catalog.text(text_key, **params), button_row(catalog, buttons))


def answer_lines(
    catalog: Catalog, line_key: str, answers: Mapping[str, object], ids: Iterable[str]
) -> list[str]:
    """One line per answered question among `ids`: its short name and the answer."""
    return [
        catalog.text(
            line_key,
            question=catalog.short(qid),
            answer=answer_label(catalog, qid, answers[qid]),
        )
        for qid in ids
        if qid in answers
    ]


def _units(text: str) -> int:
    # Telegram counts UTF-16 code units; the raw HTML is never shorter than what it shows,
    # and at most 3 UTF-8 bytes a unit keep it far below the 32 KiB of raw text it accepts.
    return len(text.encode("utf-16-le")) // 2


def _cut_points(line: str) -> list[int]:
    """Where a line of Telegram HTML may be cut: outside tags and entities, with no tag
    open, preferring spaces (each point is the length of the first part)."""
    points: list[int] = []
    depth = 0
    i = 0
    while i < len(line):
        char = line[i]
        if char == "<":
            end = line.find(">", i)
            if end < 0:
                break
            depth += -1 if line.startswith("</", i) else 1
            i = end + 1
            continue
        if char == "&":
            end = line.find(";", i)
            i = end + 1 if end > 0 else i + 1
            if depth == 0:
                points.append(i)
            continue
        i += 1
        if depth == 0:
            points.append(i)
    return points


def _split_line(line: str, limit: int) -> list[str]:
    """A line too long for one message in parts that each fit and stay valid HTML."""
    parts: list[str] = []
    while _units(line) > limit:
        fitting = [p for p in _cut_points(line) if _units(line[:p]) <= limit]
        if not fitting:
            # One tag spans the whole line: what it shows matters more than its markup.
            line = re.sub(r"<[^>]*>", "", line)
            continue
        spaces = [p for p in fitting if line[p - 1] == " "]
        cut = spaces[-1] if spaces and spaces[-1] > fitting[-1] // 2 else fitting[-1]
        parts.append(line[:cut])
        line = line[cut:]
    return [*parts, line]


def pack(pieces: Iterable[str], limit: int = MAX_MESSAGE, separator: str = "\n\n") -> list[Reply]:
    """Join pieces into as few messages as fit Telegram's length limit; a piece too long
    for one message is split between lines, and a line too long at a safe point."""
    messages: list[str] = []
    for whole in pieces:
        for piece in _fitting(whole, limit):
            if messages and _units(messages[-1] + separator + piece) <= limit:
                messages[-1] += separator + piece
            else:
                messages.append(piece)
    return [Reply(text) for text in messages]


def _fitting(piece: str, limit: int) -> list[str]:
    if _units(piece) <= limit:
        return [piece]
    chunks: list[str] = []
    for line in piece.split("\n"):
        for part in _split_line(line, limit):
            if chunks and _units(chunks[-1] + "\n" + part) <= limit:
                chunks[-1] += "\n" + part
            else:
                chunks.append(part)
    return chunks


def visible(text: str) -> str:
    """A name as shown to practitioners: without control, bidirectional or invisible format
    characters, which could reorder or hide what follows them in a notification."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf")).strip()


def patient_name(catalog: Catalog, patient: Patient) -> str:
    """How the practitioner sees a patient: name, @username and Telegram id (plain text)."""
    handle = f"@{visible(patient.username)}" if patient.username else None
    first = visible(patient.first_name) if patient.first_name else None
    name = " ".join(part for part in (first, handle) if part)
    return f"{name or catalog.text('practitioner.unknown_patient')} (id {patient.telegram_user_id})"


def record_keyboard(catalog: Catalog, telegram_user_id: int, intake_id: int | None) -> Keyboard:
    """The buttons under a practitioner notification: open the record, mark it reviewed,
    and (on a row of its own) write to the patient."""
    buttons = [("practitioner.open_button", Action(Verb.OPEN, telegram_user_id))]
    if intake_id is not None:
        buttons.append(("practitioner.review_button", Action(Verb.REVIEW, intake_id)))
    message = ("practitioner.message_button", Action(Verb.MESSAGE, telegram_user_id))
    return button_row(catalog, buttons) + button_row(catalog, [message])


def local_time(moment: datetime | None, tz: ZoneInfo) -> str:
    """A timestamp in the clinic's time zone, to the minute."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "-"
