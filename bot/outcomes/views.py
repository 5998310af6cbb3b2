"""A patient's course as practitioners and patients read it (content -> text)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.questionnaire import Measure, Questionnaire
from bot.scores.measures import Course, Judgement, Reading, course, given, readings, shown
from bot.vocabulary import rendering
from bot.vocabulary.outgoing import Reply
from storage import Score


def _day(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d")


def readings_of(questions: Questionnaire, scores: Iterable[Score]) -> dict[Measure, list[Reading]]:
    """Each measure's readings among stored scores, oldest first (a skipped one is a gap)."""
    by_measure: dict[Measure, list[tuple[datetime, object]]] = {m: [] for m in Measure}
    for score in scores:
        measure = questions.question(score.question_id).measure
        if measure is not None:
            by_measure[measure].append((score.at, score.value))
    return {m: readings(m, found) for m, found in by_measure.items()}


def courses_of(questions: Questionnaire, scores: Iterable[Score]) -> list[Course]:
    """The courses (pain, then function) with at least two given readings."""
    found = readings_of(questions, scores)
    return [c for m in Measure if (c := course(m, found[m])) is not None]


def _change(catalog: Catalog, course: Course) -> str:
    points = f"{'+' if course.change > 0 else ''}{shown(course.change)}"
    percent = course.percent
    if percent is None:
        return catalog.text("practitioner.course_change_points", points=points)
    return catalog.text("practitioner.course_change", points=points, percent=f"{percent:+d}")


def practitioner_lines(catalog: Catalog, courses: Sequence[Course], tz: ZoneInfo) -> list[str]:
    """The courses under their heading: per measure first and latest with the change and
    its judgement, and the previous reading when there is one."""
    if not courses:
        return []
    lines = [catalog.text("practitioner.course_heading")]
    for c in courses:
        first, latest = c.first, c.latest
        lines.append(
            catalog.text(
                "practitioner.course_line",
                measure=catalog.text(f"practitioner.measure_{c.measure}"),
                first=shown(given(first)),
                first_date=_day(first.at, tz),
                latest=shown(given(latest)),
                latest_date=_day(latest.at, tz),
                change=_change(catalog, c),
                judgement=catalog.text(f"practitioner.judgement_{c.judgement}"),
            )
        )
        if c.previous is not None:
            lines.append(
                catalog.text(
                    "practitioner.course_previous",
                    previous=shown(given(c.previous)),
                    previous_date=_day(c.previous.at, tz),
                )
            )
    return lines


def patient_course(
    catalog: Catalog, found: dict[Measure, list[Reading]], courses: Sequence[Course], tz: ZoneInfo
) -> list[Reply]:
    """/progress: each given score with its date, then the same kind lines as after a
    visit (in as many messages as a long course needs)."""
    lines = [catalog.text("progress.heading")]
    for measure in Measure:
        lines += [
            catalog.text(f"progress.reading_{measure}", date=_day(r.at, tz), value=shown(given(r)))
            for r in found.get(measure, [])
            if r.value is not None
        ]
    kind = patient_progress(catalog, courses, tz)
    if kind is not None:
        lines += ["", kind.html]
    return rendering.pack(lines, separator="\n")


def patient_progress(catalog: Catalog, courses: Sequence[Course], tz: ZoneInfo) -> Reply | None:
    """Kind lines on the patient's own course since their first visit (None without one)."""
    if not courses:
        return None
    words = {
        Judgement.IMPROVED: "better",
        Judgement.NO_CLEAR_CHANGE: "same",
        Judgement.WORSE: "worse",
    }
    lines = []
    for c in courses:
        lines.append(
            catalog.text(
                f"progress.{c.measure}_{words[c.judgement]}",
                first=shown(given(c.first)),
                latest=shown(given(c.latest)),
                date=_day(c.first.at, tz),
            )
        )
    return Reply("\n".join(lines))
