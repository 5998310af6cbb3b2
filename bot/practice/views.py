"""Practitioner views: lists of intakes and a patient's record, as Telegram HTML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.intake import views as intake_views
from bot.scores.activities import parse
from bot.scores.measures import Course, given, shown, value_of
from bot.vocabulary import rendering
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Button, Keyboard, Reply
from storage import (
    Author,
    Delivery,
    FollowupRecord,
    IntakeRecord,
    Patient,
    Score,
    ThreadMessage,
)

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
    scores: Sequence[Score] = (),
    courses: Sequence[Course] = (),
    shown: int | None = None,
) -> list[Reply]:
    """A patient's record: one intake in full (`shown`, else the latest) with the `courses`
    up to it, the history of intakes and follow-ups with dates, every score over time, and
    the latest messages between the clinic and the patient."""
    full = next((r for r in records if r.intake.id == shown), records[-1])
    patient = rendering.patient_name(catalog, full.patient)
    heading = catalog.text(
        "practitioner.record_intake_heading",
        intake=full.intake.id,
        status=_status(catalog, full),
        patient=patient,
    )
    summary = intake_views.practitioner_summary(
        catalog,
        full.patient,
        full.intake,
        full.decoded_answers(),
        tz,
        heading=heading,
        courses=courses,
        carried=full.carried,
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
    # Scores not given leave a gap in the chart, no line here.
    timeline = [
        (rendering.local_time(s.at, tz), line)
        for s in scores
        if (line := _score_line(catalog, s, tz)) is not None
    ]
    for f in followups:
        soreness = f.answers.get("fu_soreness")
        if isinstance(soreness, int):
            moment = rendering.local_time(f.message.sent_at, tz)
            compared = f.answers.get("fu_compared")
            label = rendering.answer_label(catalog, "fu_compared", compared) if compared else "-"
            line = catalog.text(
                "practitioner.soreness_line", date=moment, score=soreness, compared=label
            )
            timeline.append((moment, line))
    if timeline:
        lines += ["", catalog.text("practitioner.scores_heading")]
        lines += [line for _, line in sorted(timeline, key=lambda pair: pair[0])]
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


def _score_line(catalog: Catalog, score: Score, tz: ZoneInfo) -> str | None:
    """One score on the record: when, where (intake or check-in), the value; for the PSFS
    each activity's rating too."""
    measure = catalog.questionnaire.question(score.question_id).measure
    assert measure is not None
    value = value_of(measure, score.value)
    if value is None:
        return None
    where = "intake" if score.intake_id is not None else "followup"
    activities = parse(score.value)
    detail = "; ".join(f"{a.name} {a.rating}" for a in (activities.rated if activities else ()))
    return catalog.text(
        f"practitioner.{measure}_line",
        date=rendering.local_time(score.at, tz),
        score=shown(value),
        where=catalog.text(f"practitioner.score_in_{where}"),
        activities=detail,
    )


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


def worse_courses(
    catalog: Catalog, courses: Sequence[tuple[Patient, Course]], tz: ZoneInfo
) -> list[Reply]:
    """Patients with a measure clinically importantly worse than at their first visit
    (one line per measure), with a button under the last message to open each record."""
    lines = [catalog.text("practitioner.flagged_worse_heading")]
    lines += [
        catalog.text(
            "practitioner.flagged_worse_line",
            patient=rendering.patient_name(catalog, patient),
            measure=catalog.text(f"practitioner.measure_{course.measure}"),
            first=shown(given(course.first)),
            first_date=rendering.local_time(course.first.at, tz)[:10],
            latest=shown(given(course.latest)),
            latest_date=rendering.local_time(course.latest.at, tz)[:10],
        )
        for patient, course in courses
    ]
    replies = rendering.pack(lines, separator="\n")
    patients = {patient.telegram_user_id: patient for patient, _ in courses}
    rows = tuple((_open_patient_button(catalog, patient),) for patient in patients.values())
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
