"""Content + answers -> Telegram HTML and keyboards. All escaping of user text happens here
(through `fill` and `html.escape`)."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.intake import guide, screening
from bot.vocabulary import flow
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Button, Keyboard, Reply
from bot.vocabulary.questionnaire import (
    FOLLOWUP_QUESTIONS,
    ORDER,
    Group,
    Kind,
    question,
    questions_in,
)
from storage import IntakeRecord, Patient

MAX_MESSAGE = 4096
SCALE_ROWS = ((0, 1, 2, 3, 4, 5), (6, 7, 8, 9, 10))
CHECK = "✅ "


def answer_label(catalog: Catalog, question_id: str, value: object) -> str:
    """An answer as plain text in the catalog's language."""
    q = question(question_id)
    if q.kind is Kind.MULTI and isinstance(value, list):
        return ", ".join(catalog.option(question_id, str(code)) for code in value)
    if q.kind in (Kind.CHOICE, Kind.YES_NO) and isinstance(value, str):
        return catalog.option(question_id, value)
    if value is None:
        return catalog.text("summary.skipped")
    return str(value)


def _keyboard(
    catalog: Catalog,
    owner_id: int,
    question_id: str,
    answers: Mapping[str, object],
    followup: bool = False,
) -> Keyboard:
    """The buttons of a question; `owner_id` is the intake's (or follow-up message's) id."""
    q = question(question_id)
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


def question_reply(
    catalog: Catalog, intake_id: int, question_id: str, answers: Mapping[str, object]
) -> Reply:
    """An intake question as sent: progress, prompt, hint and its buttons."""
    number, total = flow.position(question_id)
    keyboard = _keyboard(catalog, intake_id, question_id, answers)
    return _ask(catalog, question_id, number, total, keyboard)


def followup_reply(catalog: Catalog, message_id: int, question_id: str) -> Reply:
    """A follow-up question as sent, its buttons bound to the follow-up message."""
    ids = [q.id for q in FOLLOWUP_QUESTIONS]
    keyboard = _keyboard(catalog, message_id, question_id, {}, followup=True)
    return _ask(catalog, question_id, ids.index(question_id) + 1, len(ids), keyboard)


def _ask(catalog: Catalog, question_id: str, number: int, total: int, keyboard: Keyboard) -> Reply:
    parts = [catalog.text("flow.progress", number=number, total=total), catalog.prompt(question_id)]
    kind = question(question_id).kind
    if kind is Kind.MULTI:
        parts.append(catalog.text("flow.choose_many"))
    elif kind is Kind.TEXT:
        parts.append(catalog.text("flow.type_answer"))
    return Reply("\n\n".join(parts), keyboard)


def answered(catalog: Catalog, question_id: str, value: object) -> Reply:
    """A question after it was answered: its prompt and the answer, no buttons."""
    chosen = catalog.text("flow.chosen", answer=answer_label(catalog, question_id, value))
    return Reply(f"{catalog.prompt(question_id)}\n\n{chosen}")


def _row(catalog: Catalog, buttons: Iterable[tuple[str, Action]]) -> Keyboard:
    """One row of buttons from (label key, action) pairs."""
    return (tuple(Button(catalog.text(label), action.encode()) for label, action in buttons),)


def welcome(catalog: Catalog, clinic: str) -> Reply:
    """The greeting with the consent question."""
    buttons = [
        ("consent.agree_button", Action(Verb.CONSENT, code="yes")),
        ("consent.decline_button", Action(Verb.CONSENT, code="no")),
    ]
    return Reply(catalog.text("consent.welcome", clinic=clinic), _row(catalog, buttons))


def choice(
    catalog: Catalog, text_key: str, buttons: Iterable[tuple[str, Action]], **params: object
) -> Reply:
    """A message with one row of buttons: (label key, action) pairs."""
    return Reply(catalog.text(text_key, **params), _row(catalog, buttons))


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


def summary(catalog: Catalog, intake_id: int, answers: Mapping[str, object]) -> Reply:
    """Every answer for the patient to check, with confirm / start over."""
    ids = [qid for qid in ORDER if flow.applies(qid, answers)]
    lines = [
        catalog.text("summary.heading"),
        "",
        *answer_lines(catalog, "summary.line", answers, ids),
    ]
    buttons = [
        ("summary.confirm_button", Action(Verb.SUMMARY, intake_id, "", "ok")),
        ("summary.restart_button", Action(Verb.SUMMARY, intake_id, "", "again")),
    ]
    return Reply("\n".join(lines), _row(catalog, buttons))


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


def guide_replies(catalog: Catalog, answers: Mapping[str, object], *, urgent: bool) -> list[Reply]:
    """The guide sections matching the answers, what to expect, disclaimer and credit.

    After a red flag the guide opens with that flag's advice again (the most urgent first)
    and leaves out every self-care tip: nothing in it may read as "carry on at home".
    """
    flags = screening.most_urgent_first(screening.red_flags(answers))
    urgent = urgent or bool(flags)
    first: list[str] = [red_flag_advice(catalog, flag, footer=False).html for flag in flags]
    if urgent:
        first.append(catalog.text("safety.urgent_reminder"))
    sections: list[str] = []
    for section_id in guide.guide_sections(answers):
        section = catalog.section(section_id)
        parts = [f"<b>{html.escape(section.title)}</b>", section.body]
        if section.self_care and not urgent:
            parts.append(section.self_care)
        sections.append("\n\n".join(parts))
    rest: list[str] = []
    if guide.injury_caveat(answers):
        rest.append(catalog.text("guide.caveats.injury"))
    rest.append(f"<b>{html.escape(catalog.raw('guide.expect.title'))}</b>")
    rest += [catalog.text("guide.expect.twitch"), catalog.text("guide.expect.soreness")]
    if not urgent:
        rest.append(catalog.text("guide.expect.soreness_self_care"))
    rest += [
        catalog.text("guide.expect.contact"),
        catalog.text("guide.about.disclaimer"),
        catalog.text("guide.about.credit"),
        catalog.text("done.footer"),
    ]
    # The advice and each section start a message of their own; the rest is packed.
    opening = [Reply("\n\n".join(first))] if first else []
    return opening + [Reply(p) for p in sections] + pack(rest)


def red_flag_advice(catalog: Catalog, question_id: str, *, footer: bool = True) -> Reply:
    """What a patient is told at once after answering yes to a red-flag question: a heading
    as urgent as the advice, the advice, and (as it is given) what happens next."""
    urgency = screening.RED_FLAG_URGENCY[question_id].name.lower()
    parts = [
        catalog.text(f"safety.heading_{urgency}"),
        catalog.text(f"safety.red_flags.{question_id}"),
    ]
    if footer:
        parts.append(catalog.text("safety.red_flag_footer"))
    return Reply("\n\n".join(parts))


def flagged_reminder(catalog: Catalog, reminder: Reply, flags: list[str]) -> Reply:
    """An appointment reminder for a patient whose red flags no practitioner has reviewed:
    contact the clinic before coming, and each flag's advice again, before the reminder."""
    advice = [
        red_flag_advice(catalog, flag, footer=False).html
        for flag in screening.most_urgent_first(flags)
    ]
    parts = [catalog.text("safety.unreviewed_reminder"), *advice, reminder.html]
    return Reply("\n\n".join(parts), reminder.keyboard)


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
    """The buttons under a practitioner notification: open the record, mark it reviewed."""
    buttons = [("practitioner.open_button", Action(Verb.OPEN, telegram_user_id))]
    if intake_id is not None:
        buttons.append(("practitioner.review_button", Action(Verb.REVIEW, intake_id)))
    return _row(catalog, buttons)


def red_flag_alert(catalog: Catalog, patient: Patient, intake_id: int, question_id: str) -> Reply:
    """The practitioner's alert the moment a patient reports a red flag."""
    text = catalog.text(
        "practitioner.red_flag_alert",
        patient=patient_name(catalog, patient),
        flag=catalog.short(question_id),
        intake=intake_id,
    )
    return Reply(text, record_keyboard(catalog, patient.telegram_user_id, None))


def local_time(moment: datetime | None, tz: ZoneInfo) -> str:
    """A timestamp in the clinic's time zone, to the minute."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "-"


def practitioner_summary(catalog: Catalog, record: IntakeRecord, tz: ZoneInfo) -> Reply:
    """A completed intake as the practitioner reads it: urgent red flags first."""
    answers = record.decoded_answers()
    lines = [
        catalog.text("practitioner.intake_heading", patient=patient_name(catalog, record.patient))
    ]

    def block(heading: str, ids: list[str]) -> None:
        rows = answer_lines(catalog, "practitioner.line", answers, ids)
        if rows:
            lines.extend(["", catalog.text(heading), *rows])

    block("practitioner.urgent_heading", screening.red_flags(answers))
    block("practitioner.cautions_heading", screening.cautions(answers))
    block("practitioner.pain_heading", [q.id for q in questions_in(Group.PAIN)])
    block(
        "practitioner.notes_heading", [q.id for q in questions_in(Group.NOTES) if answers.get(q.id)]
    )
    lines += [
        "",
        catalog.text(
            "practitioner.meta",
            intake=record.intake.id,
            started=local_time(record.intake.started_at, tz),
            completed=local_time(record.intake.completed_at, tz),
        ),
    ]
    if record.intake.start_payload:
        lines.append(catalog.text("practitioner.payload", payload=record.intake.start_payload))
    keyboard = record_keyboard(catalog, record.patient.telegram_user_id, record.intake.id)
    return Reply("\n".join(lines), keyboard)
