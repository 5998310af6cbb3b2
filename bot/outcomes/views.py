"""A patient's course as practitioners and patients read it (content -> text)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.outcomes.measures import PAIN, Course, Judgement, pain_course
from bot.vocabulary.outgoing import Reply
from storage import IntakeRecord, IntakeStatus, Score


def _day(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d")


def course_of_records(records: Iterable[IntakeRecord]) -> Course | None:
    """The pain course of a patient's intakes (those started over left out)."""
    readings = []
    for record in records:
        if record.intake.status is IntakeStatus.RESTARTED:
            continue
        for answer in record.answers:
            if answer.question_id == PAIN:
                readings.append((answer.answered_at, json.loads(answer.value)))
    return pain_course(sorted(readings, key=lambda pair: pair[0]))


def course_of_scores(scores: Sequence[Score]) -> Course | None:
    """The pain course of stored scores (storage.scores), oldest first."""
    return pain_course((score.at, score.value) for score in scores)


def practitioner_lines(catalog: Catalog, course: Course, tz: ZoneInfo) -> list[str]:
    """The course under its heading: first and latest with the change and its judgement,
    and the previous reading when there is one."""
    points = f"{course.change:+d}"
    percent = course.percent
    change = (
        catalog.text("practitioner.course_change_points", points=points)
        if percent is None
        else catalog.text("practitioner.course_change", points=points, percent=f"{percent:+d}")
    )
    lines = [
        catalog.text("practitioner.course_heading"),
        catalog.text(
            "practitioner.course_line",
            first=course.first.value,
            first_date=_day(course.first.at, tz),
            latest=course.latest.value,
            change=change,
            judgement=catalog.text(f"practitioner.judgement_{course.judgement}"),
        ),
    ]
    if course.previous is not None:
        lines.append(
            catalog.text(
                "practitioner.course_previous",
                previous=course.previous.value,
                previous_date=_day(course.previous.at, tz),
            )
        )
    return lines


def patient_course(catalog: Catalog, course: Course, tz: ZoneInfo) -> Reply:
    """/progress: every pain score of the patient's intakes with its date, then the same
    kind line as after an intake."""
    lines = [catalog.text("progress.heading")]
    lines += [
        catalog.text("progress.reading", date=_day(reading.at, tz), value=reading.value)
        for reading in course.readings
    ]
    lines += ["", patient_progress(catalog, course, tz).html]
    return Reply("\n".join(lines))


def patient_progress(catalog: Catalog, course: Course, tz: ZoneInfo) -> Reply:
    """One kind line on the patient's own course since their first visit."""
    key = {
        Judgement.IMPROVED: "progress.better",
        Judgement.NO_CLEAR_CHANGE: "progress.same",
        Judgement.WORSE: "progress.worse",
    }[course.judgement]
    return Reply(
        catalog.text(
            key,
            first=course.first.value,
            latest=course.latest.value,
            date=_day(course.first.at, tz),
        )
    )
