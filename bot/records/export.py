"""Intakes and follow-ups as JSON (the full record) or CSV (one row per intake, one column
per question, for spreadsheets). Dates are ISO 8601 in the clinic's time zone."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.scores.activities import parse
from bot.scores.measures import value_of
from bot.vocabulary import rendering
from storage import FollowupRecord, IntakeRecord, Score

BOM = "\ufeff"
_RECORD_COLUMNS = (
    "intake_id",
    "telegram_user_id",
    "first_name",
    "username",
    "language",
    "status",
    "urgent",
    "red_flags",
    "started_at",
    "completed_at",
    "reviewed_at",
    "start_payload",
    "appointment_id",
    "content_version",
    "returning_from",
    "confirmed_unchanged",
)


def _iso(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat() if value is not None else None


def intake_dict(record: IntakeRecord, catalog: Catalog, tz: ZoneInfo) -> dict[str, Any]:
    """One intake as a JSON-ready dictionary."""
    intake, patient = record.intake, record.patient
    answers = record.decoded_answers()
    return {
        "intake_id": intake.id,
        "patient": {
            "telegram_user_id": patient.telegram_user_id,
            "first_name": patient.first_name,
            "username": patient.username,
            "language": patient.language,
        },
        "status": intake.status.value,
        "urgent": intake.urgent,
        "started_at": _iso(intake.started_at, tz),
        "completed_at": _iso(intake.completed_at, tz),
        "reviewed_at": _iso(intake.reviewed_at, tz),
        "start_payload": intake.start_payload,
        "appointment_id": intake.appointment_id,
        "content_version": intake.content_version,
        # A returning patient's intake: the one it started from, and what they answered for
        # each block (history, red_flags, screening).
        "returning_from": intake.returning_from,
        "returning_checks": dict(intake.checks) if intake.checks is not None else None,
        "red_flags": [
            {"flag": flag.flag, "raised_at": _iso(flag.raised_at, tz)} for flag in record.red_flags
        ],
        "answers": [
            {
                "question_id": answer.question_id,
                "value": answers[answer.question_id],
                "label": rendering.answer_label(
                    catalog, answer.question_id, answers[answer.question_id]
                ),
                "answered_at": _iso(answer.answered_at, tz),
                # Carried forward from an earlier intake and confirmed unchanged: when.
                "carried_from": answer.carried.from_intake_id if answer.carried else None,
                "confirmed_unchanged_at": (
                    _iso(answer.carried.confirmed_at, tz) if answer.carried else None
                ),
            }
            for answer in record.answers
        ],
    }


def followup_dict(record: FollowupRecord, catalog: Catalog, tz: ZoneInfo) -> dict[str, Any]:
    """One follow-up check-in as a JSON-ready dictionary."""
    return {
        "appointment_id": record.appointment.id,
        "appointment_starts_at": _iso(record.appointment.starts_at, tz),
        "telegram_user_id": record.patient.telegram_user_id,
        "first_name": record.patient.first_name,
        "sent_at": _iso(record.message.sent_at, tz),
        "answers": [
            {
                "question_id": question_id,
                "value": value,
                "label": rendering.answer_label(catalog, question_id, value),
            }
            for question_id, value in record.answers.items()
        ],
    }


def score_dict(score: Score, catalog: Catalog, tz: ZoneInfo) -> dict[str, Any]:
    """One score (pain now, the PSFS) as a JSON-ready dictionary: null when not given."""
    measure = catalog.questionnaire.question(score.question_id).measure
    assert measure is not None
    activities = parse(score.value)
    return {
        "telegram_user_id": score.telegram_user_id,
        "measure": measure.value,
        "question_id": score.question_id,
        "score": value_of(measure, score.value),
        "answered_at": _iso(score.at, tz),
        "intake_id": score.intake_id,
        "followup_id": score.followup_id,
        "activities": [
            {"name": a.name, "rating": a.rating} for a in (activities.rated if activities else ())
        ],
    }


def to_json(
    records: Iterable[IntakeRecord],
    catalog: Catalog,
    tz: ZoneInfo,
    followups: Iterable[FollowupRecord] = (),
    scores: Iterable[Score] = (),
) -> str:
    """Intakes, follow-up check-ins and every score as one JSON document."""
    data = {
        "intakes": [intake_dict(record, catalog, tz) for record in records],
        "followups": [followup_dict(record, catalog, tz) for record in followups],
        "scores": [score_dict(score, catalog, tz) for score in scores],
    }
    return dump(data)


def dump(data: dict[str, Any]) -> str:
    """A JSON document as exported: UTF-8 text, indented."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula (patient text is untrusted)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(records: Iterable[IntakeRecord], catalog: Catalog, tz: ZoneInfo) -> str:
    """Intakes as CSV for spreadsheets: UTF-8 with a byte-order mark (so Excel reads the
    accents), one row per intake and one column per question holding the answer's label."""
    out = io.StringIO()
    out.write(BOM)
    intakes = [intake_dict(record, catalog, tz) for record in records]
    asked = catalog.questionnaire.order
    # Answers to questions the clinic has since retired keep a column after the others.
    retired = [a["question_id"] for data in intakes for a in data["answers"]]
    columns = (*_RECORD_COLUMNS, *asked, *dict.fromkeys(q for q in retired if q not in asked))
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for data in intakes:
        row: dict[str, object] = {
            **{k: data["patient"][k] for k in ("telegram_user_id", "first_name", "username")},
            "language": data["patient"]["language"],
            **{k: data[k] for k in _RECORD_COLUMNS if k in data},
            "urgent": "yes" if data["urgent"] else "no",
            "red_flags": "; ".join(flag["flag"] for flag in data["red_flags"]),
            "confirmed_unchanged": "; ".join(
                a["question_id"] for a in data["answers"] if a["confirmed_unchanged_at"]
            ),
        }
        for answer in data["answers"]:
            row[answer["question_id"]] = answer["label"]
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


_SCORE_COLUMNS = (
    "telegram_user_id",
    "measure",
    "score",
    "answered_at",
    "question_id",
    "intake_id",
    "followup_id",
    "activities",
)


def scores_csv(scores: Iterable[Score], catalog: Catalog, tz: ZoneInfo) -> str:
    """Every score as CSV for spreadsheets (one row each, oldest first): the measure, its
    value (empty when not given), when it was given, in which intake or follow-up, and for
    the PSFS each activity's rating."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.DictWriter(out, fieldnames=_SCORE_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for score in scores:
        data = score_dict(score, catalog, tz)
        data["activities"] = "; ".join(f"{a['name']}: {a['rating']}" for a in data["activities"])
        writer.writerow({k: _cell(data[k]) for k in _SCORE_COLUMNS})
    return out.getvalue()
