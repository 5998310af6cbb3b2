"""The intake's messages: its questions, welcome, summary, guide, red-flag advice and the
practitioner's summary and alerts."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.intake import guide, screening
from bot.outcomes import views as outcome_views
from bot.questionnaire import Group, Kind
from bot.scores.measures import Course
from bot.vocabulary import flow, rendering
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.flow import Block, Decision
from bot.vocabulary.outgoing import Button, Reply
from storage import Carried, Intake, IntakeStatus, Patient, RedFlag


def question_reply(
    catalog: Catalog,
    intake_id: int,
    question_id: str,
    answers: Mapping[str, object],
    *,
    returning: bool = False,
) -> Reply:
    """An intake question as sent: progress (counted as in a returning intake, if it is
    one), prompt, hint and its buttons."""
    number, total = flow.position(catalog.questionnaire, question_id, returning=returning)
    if catalog.questionnaire.question(question_id).kind is Kind.ACTIVITIES:
        value = answers.get(question_id)
        return rendering.activities_reply(catalog, intake_id, question_id, value, (number, total))
    keyboard = rendering.question_keyboard(catalog, intake_id, question_id, answers)
    return rendering.ask(catalog, question_id, number, total, keyboard)


def welcome(catalog: Catalog, clinic: str, *, returning: bool = False) -> Reply:
    """The greeting with the consent question, and how long the intake takes (the short
    one when `returning`)."""
    buttons = [
        ("consent.agree_button", Action(Verb.CONSENT, code="yes")),
        ("consent.decline_button", Action(Verb.CONSENT, code="no")),
    ]
    minutes = flow.minutes(catalog.questionnaire, returning=returning)
    return Reply(
        catalog.text("consent.welcome", clinic=clinic, minutes=minutes),
        rendering.button_row(catalog, buttons),
    )


def summary(
    catalog: Catalog, intake_id: int, answers: Mapping[str, object], *, note_here: bool = False
) -> Reply:
    """Every answer for the patient to check, with confirm / start over; `note_here`: the
    notes are not asked as a question (a returning intake), so a note may be typed here."""
    ids = [q.id for q in catalog.questionnaire.intake if q.applies(answers)]
    lines = [
        catalog.text("summary.heading"),
        "",
        *rendering.answer_lines(catalog, "summary.line", answers, ids),
    ]
    if note_here:
        lines += ["", catalog.text("summary.note_here")]
    buttons = [
        ("summary.confirm_button", Action(Verb.SUMMARY, intake_id, "", "ok")),
        ("summary.restart_button", Action(Verb.SUMMARY, intake_id, "", "again")),
    ]
    change = [("summary.change_button", Action(Verb.CHANGE, intake_id))]
    keyboard = rendering.button_row(catalog, buttons) + rendering.button_row(catalog, change)
    return Reply("\n".join(lines), keyboard)


def change_choice(catalog: Catalog, intake_id: int, answers: Mapping[str, object]) -> Reply:
    """Which answer to change: a button per answered question, and back to the summary."""
    ids = [q.id for q in catalog.questionnaire.intake if q.applies(answers) and q.id in answers]
    rows = tuple(
        (Button(catalog.short(qid), Action(Verb.CHANGE, intake_id, qid).encode()),) for qid in ids
    )
    back = Button(
        catalog.text("summary.change_back"), Action(Verb.CHANGE, intake_id, "", "back").encode()
    )
    return Reply(catalog.text("summary.change_which"), (*rows, (back,)))


def guide_replies(catalog: Catalog, answers: Mapping[str, object], *, urgent: bool) -> list[Reply]:
    """The guide sections matching the answers, what to expect, disclaimer and credit.

    After a red flag the guide opens with that flag's advice again (the most urgent first)
    and leaves out every self-care tip: nothing in it may read as "carry on at home".
    """
    questions = catalog.questionnaire
    flags = screening.most_urgent_first(questions, screening.red_flags(questions, answers))
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
    return opening + [Reply(p) for p in sections] + rendering.pack(rest)


def red_flag_advice(catalog: Catalog, question_id: str, *, footer: bool = True) -> Reply:
    """What a patient is told at once after answering yes to a red-flag question: a heading
    as urgent as the advice, the advice, and (as it is given) what happens next."""
    urgency = catalog.questionnaire.question(question_id).urgency
    assert urgency is not None, f"{question_id} is no red flag"
    parts = [
        catalog.text(f"safety.heading_{urgency.name.lower()}"),
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
        for flag in screening.most_urgent_first(catalog.questionnaire, flags)
    ]
    parts = [catalog.text("safety.unreviewed_reminder"), *advice, reminder.html]
    return Reply("\n\n".join(parts), reminder.keyboard)


def red_flag_alert(
    catalog: Catalog, patient: Patient, intake_id: int, question_id: str | None
) -> Reply:
    """The practitioner's alert the moment a patient reports a red flag (None: a returning
    patient said yes to the list of them, and is being asked which)."""
    name = rendering.patient_name(catalog, patient)
    if question_id is None:
        text = catalog.text("practitioner.red_flags_listed_alert", patient=name, intake=intake_id)
    else:
        text = catalog.text(
            "practitioner.red_flag_alert",
            patient=name,
            flag=catalog.short(question_id),
            intake=intake_id,
        )
    return Reply(text, rendering.record_keyboard(catalog, patient.telegram_user_id, None))


def practitioner_summary(
    catalog: Catalog,
    patient: Patient,
    intake: Intake,
    answers: Mapping[str, object],
    tz: ZoneInfo,
    earlier: Sequence[tuple[int, RedFlag]] = (),
    *,
    heading: str | None = None,
    courses: Sequence[Course] = (),
    carried: Mapping[str, Carried] | None = None,
) -> Reply:
    """An intake as the practitioner reads it: urgent red flags first, then the other red
    flags of the patient's earlier intakes (`earlier`: intake id and flag), and after the pain
    answers the patient's `courses` (pain, function) since their first visit. Headed "New intake"
    unless `heading` (HTML) says otherwise; "Mark reviewed" only while it applies. A
    returning patient's answers `carried` forward unchanged are marked ↺, with when and from
    which intake, how many safety answers were confirmed, and red flags asked at once."""
    if heading is None:
        name = rendering.patient_name(catalog, patient)
        heading = catalog.text("practitioner.intake_heading", patient=name)
    lines = [heading]
    carried = carried or {}

    def block(heading: str, ids: list[str]) -> None:
        rows = [
            line
            for qid in ids
            for line in rendering.answer_lines(
                catalog,
                "practitioner.carried_line" if qid in carried else "practitioner.line",
                answers,
                [qid],
            )
        ]
        if rows:
            lines.extend(["", catalog.text(heading), *rows])

    questions = catalog.questionnaire
    lines += _returning_lines(catalog, intake, answers, carried, tz)
    now_flagged = screening.red_flags(questions, answers)
    block("practitioner.urgent_heading", now_flagged)
    # A flag raised again now is under the urgent ones: only the others are recalled.
    earlier = [(i, flag) for i, flag in earlier if flag.flag not in now_flagged]
    if earlier:
        lines.extend(["", catalog.text("practitioner.earlier_flags_heading")])
        lines += [
            catalog.text(
                "practitioner.earlier_flag_line",
                intake=intake_id,
                date=rendering.local_time(flag.raised_at, tz),
                # A question no longer asked may have no words any more: its id, then.
                flag=catalog.short(flag.flag) if flag.flag in questions.order else flag.flag,
            )
            for intake_id, flag in earlier
        ]
    block("practitioner.cautions_heading", screening.cautions(questions, answers))
    block("practitioner.pain_heading", [q.id for q in questions.in_group(Group.PAIN)])
    if courses:
        lines += ["", *outcome_views.practitioner_lines(catalog, courses, tz)]
    notes = [q.id for q in questions.in_group(Group.NOTES) if answers.get(q.id)]
    block("practitioner.notes_heading", notes)
    lines += [
        "",
        catalog.text(
            "practitioner.meta",
            intake=intake.id,
            started=rendering.local_time(intake.started_at, tz),
            completed=rendering.local_time(intake.completed_at, tz),
        ),
    ]
    if intake.start_payload:
        lines.append(catalog.text("practitioner.payload", payload=intake.start_payload))
    reviewable = intake.status is IntakeStatus.COMPLETED and intake.reviewed_at is None
    keyboard = rendering.record_keyboard(
        catalog, patient.telegram_user_id, intake.id if reviewable else None
    )
    return Reply("\n".join(lines), keyboard)


def _returning_lines(
    catalog: Catalog,
    intake: Intake,
    answers: Mapping[str, object],
    carried: Mapping[str, Carried],
    tz: ZoneInfo,
) -> list[str]:
    """What a returning patient confirmed: from which intake and when, how many safety
    answers stood unchanged, and what they said to the red flags listed together."""
    lines = []
    if carried:
        first = min(carried.values(), key=lambda c: c.confirmed_at)
        date = rendering.local_time(first.confirmed_at, tz)
        if first.from_intake_id is None:  # erased by retention since
            lines.append(catalog.text("practitioner.returning_erased", date=date))
        else:
            lines.append(
                catalog.text("practitioner.returning", intake=first.from_intake_id, date=date)
            )
        safety = [q.id for q in flow.block_questions(catalog.questionnaire, Block.SCREENING)]
        lines.append(
            catalog.text(
                "practitioner.screening_carried",
                count=sum(qid in carried for qid in safety),
                total=len(safety),
            )
        )
    listed = (intake.checks or {}).get(Block.RED_FLAGS)
    if listed == Decision.NONE:
        lines.append(catalog.text("practitioner.red_flags_none"))
    elif listed == Decision.SOME and not screening.red_flags(catalog.questionnaire, answers):
        # The alert of "one or more" went out: what the patient then said of each.
        lines.append(catalog.text("practitioner.red_flags_some_none"))
    return ["", *lines] if lines else []


# The two ways to confirm an erasure: /delete, or declining consent after giving it.
ERASE = "yes"
WITHDRAW = "withdraw"


def erase_confirmation(catalog: Catalog, code: str) -> Reply:
    """The question before an erasure: by /delete (ERASE), or by declining consent later
    (WITHDRAW)."""
    return rendering.choice(
        catalog,
        "delete.confirm",
        [
            ("delete.yes_button", Action(Verb.DELETE, code=code)),
            ("delete.no_button", Action(Verb.DELETE, code="no")),
        ],
    )
