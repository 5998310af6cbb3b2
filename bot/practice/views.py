"""Practitioner views: lists of intakes and a patient's record, as Telegram HTML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.intake import views as intake_views
from bot.outcomes import views as outcome_views
from bot.outcomes.measures import Course
from bot.vocabulary import rendering
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Button, Keyboard, Reply
from storage import Author, Delivery, FollowupRecord, IntakeRecord, Patient, ThreadMessage

PAGE_SIZE = 8


def _status(catalog: Catalog, record: IntakeRecord) -> str:
    marks = [catalog.text(f"practitioner.status_{record.intake.status.value}")]
    if record.intake.urgent:
        marks.append(catalog.text("practitioner.urgent_mark"))
    if record.intake.reviewed_at is not None:
        marks.append(catalog.text("practitioner.reviewed_mark"))
    return ", ".join(marks)


def _list_line(catalog: Catalog, record: IntakeRecord, tz: ZoneInfo) -> str:
    return catalog.text(
        "practitioner.list_line",
        intake=record.intake.id,
        started=rendering.local_time(record.intake.started_at, tz),
        patient=rendering.patient_name(catalog, record.patient),
        status=_status(catalog, record),
    )


def _open_button(catalog: Catalog, record: IntakeRecord) -> Button:
    label = f"{catalog.text('practitioner.open_button')} #{record.intake.id}"
    return Button(label, Action(Verb.OPEN_INTAKE, record.intake.id).encode())


def intake_list(
    catalog: Catalog,
    records: Sequence[IntakeRecord],
    tz: ZoneInfo,
    *,
    heading: str,
    page: int | None = None,
    more: bool = False,
) -> Reply:
    """A list of intakes with a button to open each; with `page`, newer/older buttons."""
    lines = [heading]
    lines += [_list_line(catalog, r, tz) for r in records] or [catalog.text("practitioner.nothing")]
    rows: list[tuple[Button, ...]] = []
    for record in records:
        row = [_open_button(catalog, record)]
        if record.intake.status.value == "completed" and record.intake.reviewed_at is None:
            label = f"{catalog.text('practitioner.review_button')} #{record.intake.id}"
            row.append(Button(label, Action(Verb.REVIEW, record.intake.id).encode()))
        rows.append(tuple(row))
    if page is not None:
        paging = []
        if page > 0:
            newer = catalog.text("practitioner.newer_button")
            paging.append(Button(newer, Action(Verb.PAGE, page - 1).encode()))
        if more:
            older = catalog.text("practitioner.older_button")
            paging.append(Button(older, Action(Verb.PAGE, page + 1).encode()))
        if paging:
            rows.append(tuple(paging))
    keyboard: Keyboard = tuple(rows)
    return Reply("\n".join(lines), keyboard)


def patient_record(
    catalog: Catalog,
    records: Sequence[IntakeRecord],
    followups: Sequence[FollowupRecord],
    messages: Sequence[ThreadMessage],
    tz: ZoneInfo,
    *,
    shown: int | None = None,
) -> list[Reply]:
    """A patient's record: one intake in full (`shown`, else the latest), the history of
    intakes and follow-ups with dates, pain scores over time, and the latest messages
    between the clinic and the patient."""
    full = next((r for r in records if r.intake.id == shown), records[-1])
    patient = rendering.patient_name(catalog, full.patient)
    heading = catalog.text(
        "practitioner.record_intake_heading",
        intake=full.intake.id,
        status=_status(catalog, full),
        patient=patient,
    )
    # The course up to the intake shown in full (an earlier one shows it as it was then).
    upto = [r for r in records if r.intake.id <= full.intake.id]
    summary = intake_views.practitioner_summary(
        catalog,
        full.patient,
        full.intake,
        full.decoded_answers(),
        tz,
        heading=heading,
        course=outcome_views.course_of_records(upto),
    )
    replies = [summary]
    lines = [catalog.text("practitioner.record_heading", patient=patient), ""]
    lines.append(catalog.text("practitioner.intakes_heading"))
    lines += [
        catalog.text(
            "practitioner.record_line",
            intake=r.intake.id,
            started=rendering.local_time(r.intake.started_at, tz),
            status=_status(catalog, r),
        )
        for r in records
    ]
    scores: list[tuple[str, str]] = []
    for r in records:
        intensity = r.decoded_answers().get("intensity")
        if isinstance(intensity, int):
            moment = rendering.local_time(r.intake.completed_at or r.intake.started_at, tz)
            scores.append(
                (moment, catalog.text("practitioner.pain_line", date=moment, score=intensity))
            )
    for f in followups:
        soreness = f.answers.get("fu_soreness")
        if isinstance(soreness, int):
            moment = rendering.local_time(f.message.sent_at, tz)
            compared = f.answers.get("fu_compared")
            label = rendering.answer_label(catalog, "fu_compared", compared) if compared else "-"
            line = catalog.text(
                "practitioner.soreness_line", date=moment, score=soreness, compared=label
            )
            scores.append((moment, line))
    if scores:
        lines += ["", catalog.text("practitioner.scores_heading")]
        lines += [line for _, line in sorted(scores)]
    if followups:
        lines += ["", catalog.text("practitioner.followups_heading")]
        for f in followups:
            # Plain text: the template escapes it once.
            answers = "; ".join(
                f"{catalog.short(q)}: {rendering.answer_label(catalog, q, v)}"
                for q, v in f.answers.items()
            )
            lines.append(
                catalog.text(
                    "practitioner.followup_line",
                    date=rendering.local_time(f.message.sent_at, tz),
                    answers=answers,
                )
            )
    if messages:
        lines += ["", catalog.text("practitioner.thread_heading")]
        lines += [_message_line(catalog, message, patient, tz) for message in messages]
    return replies + rendering.pack(lines, separator="\n")


def _message_line(catalog: Catalog, message: ThreadMessage, patient: str, tz: ZoneInfo) -> str:
    author = catalog.text("practitioner.thread_clinic")
    if message.author is Author.PATIENT:
        author = patient
    line = catalog.text(
        "practitioner.thread_line",
        date=rendering.local_time(message.written_at, tz),
        author=author,
        text=message.text,
    )
    if message.delivery is not Delivery.DELIVERED:
        line += catalog.text("practitioner.thread_not_delivered")
    return line


def flagged_followups(
    catalog: Catalog,
    records: Sequence[tuple[FollowupRecord, Mapping[str, object]]],
    tz: ZoneInfo,
    days: int,
) -> list[Reply]:
    """Check-ins with answers that needed attention (each record with those answers): when,
    who, and what, as many messages as their length needs, with a button under the last to
    open each patient's record."""
    lines = [catalog.text("practitioner.flagged_followups_heading", days=days)]
    rows: list[tuple[Button, ...]] = []
    for record, alerting in records:
        patient = record.patient
        lines.append(
            catalog.text(
                "practitioner.flagged_followup_line",
                date=rendering.local_time(record.message.sent_at, tz),
                patient=rendering.patient_name(catalog, patient),
            )
        )
        lines += rendering.answer_lines(catalog, "practitioner.line", alerting, alerting)
        rows.append((_open_patient_button(catalog, patient),))
    replies = rendering.pack(lines, separator="\n")
    replies[-1] = Reply(replies[-1].html, tuple(rows))
    return replies


def _open_patient_button(catalog: Catalog, patient: Patient) -> Button:
    name = rendering.visible(patient.first_name or "") or str(patient.telegram_user_id)
    label = f"{catalog.text('practitioner.open_button')}: {name[: rendering.NAME_IN_BUTTON]}"
    return Button(label, Action(Verb.OPEN, patient.telegram_user_id).encode())


def worse_pain(
    catalog: Catalog, courses: Sequence[tuple[Patient, Course]], tz: ZoneInfo
) -> list[Reply]:
    """Patients whose pain is clinically importantly worse than at their first intake, with
    a button under the last message to open each record."""
    lines = [catalog.text("practitioner.flagged_worse_heading")]
    lines += [
        catalog.text(
            "practitioner.flagged_worse_line",
            patient=rendering.patient_name(catalog, patient),
            first=course.first.value,
            first_date=rendering.local_time(course.first.at, tz)[:10],
            latest=course.latest.value,
            latest_date=rendering.local_time(course.latest.at, tz)[:10],
        )
        for patient, course in courses
    ]
    replies = rendering.pack(lines, separator="\n")
    rows = tuple((_open_patient_button(catalog, patient),) for patient, _ in courses)
    replies[-1] = Reply(replies[-1].html, rows)
    return replies


def patient_matches(catalog: Catalog, patients: Sequence[Patient], limit: int) -> Reply:
    """The patients a name search found, a button each (at most `limit`: more found means
    the practitioner should give more of the name)."""
    if not patients:
        return Reply(catalog.text("practitioner.no_match"))
    key = "practitioner.too_many_matches" if len(patients) > limit else "practitioner.matches"
    rows = tuple(
        (
            Button(
                rendering.patient_name(catalog, patient)[:64],
                Action(Verb.OPEN, patient.telegram_user_id).encode(),
            ),
        )
        for patient in patients[:limit]
    )
    return Reply(catalog.text(key, count=min(len(patients), limit)), rows)
