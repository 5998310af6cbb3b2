"""Intakes as JSON or CSV for the practitioner's own records."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from bot import render
from bot.content import Catalog
from storage import FollowupRecord, IntakeRecord

CSV_COLUMNS = (
    "intake_id",
    "telegram_user_id",
    "first_name",
    "username",
    "status",
    "urgent",
    "started_at",
    "completed_at",
    "start_payload",
    "content_version",
    "question_id",
    "value",
    "label",
    "answered_at",
    "appointment_id",
)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def intake_dict(record: IntakeRecord, catalog: Catalog) -> dict[str, Any]:
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
        "started_at": _iso(intake.started_at),
        "completed_at": _iso(intake.completed_at),
        "start_payload": intake.start_payload,
        "content_version": intake.content_version,
        "red_flags": [
            {"flag": flag.flag, "raised_at": _iso(flag.raised_at)} for flag in record.red_flags
        ],
        "answers": [
            {
                "question_id": answer.question_id,
                "value": answers[answer.question_id],
                "label": render.answer_label(
                    catalog, answer.question_id, answers[answer.question_id]
                ),
                "answered_at": _iso(answer.answered_at),
            }
            for answer in record.answers
        ],
    }


def followup_dict(record: FollowupRecord, catalog: Catalog) -> dict[str, Any]:
    """One follow-up check-in as a JSON-ready dictionary."""
    return {
        "appointment_id": record.appointment.id,
        "appointment_starts_at": _iso(record.appointment.starts_at),
        "telegram_user_id": record.patient.telegram_user_id,
        "first_name": record.patient.first_name,
        "sent_at": _iso(record.message.sent_at),
        "answers": [
            {
                "question_id": question_id,
                "value": value,
                "label": render.answer_label(catalog, question_id, value),
            }
            for question_id, value in record.answers.items()
        ],
    }


def to_json(
    records: Iterable[IntakeRecord], catalog: Catalog, followups: Iterable[FollowupRecord] = ()
) -> str:
    """All intakes and follow-up check-ins as a JSON document."""
    data = {
        "intakes": [intake_dict(record, catalog) for record in records],
        "followups": [followup_dict(record, catalog) for record in followups],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula (patient text is untrusted)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(
    records: Iterable[IntakeRecord], catalog: Catalog, followups: Iterable[FollowupRecord] = ()
) -> str:
    """All intakes as CSV, one row per answer (an intake without answers gets one row),
    then one row per follow-up answer (status 'followup', with its appointment id)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        data = intake_dict(record, catalog)
        base = {
            "intake_id": data["intake_id"],
            **{k: data["patient"][k] for k in ("telegram_user_id", "first_name", "username")},
            **{k: data[k] for k in ("status", "urgent", "started_at", "completed_at")},
            "start_payload": data["start_payload"],
            "content_version": data["content_version"],
        }
        if not data["answers"]:
            writer.writerow({k: _cell(v) for k, v in base.items()})
        for answer in data["answers"]:
            value = answer["value"]
            row = {
                **base,
                "question_id": answer["question_id"],
                "value": json.dumps(value, ensure_ascii=False)
                if isinstance(value, list)
                else value,
                "label": answer["label"],
                "answered_at": answer["answered_at"],
            }
            writer.writerow({k: _cell(v) for k, v in row.items()})
    for followup in followups:
        data = followup_dict(followup, catalog)
        for answer in data["answers"]:
            row = {
                "telegram_user_id": data["telegram_user_id"],
                "first_name": data["first_name"],
                "status": "followup",
                "started_at": data["sent_at"],
                "question_id": answer["question_id"],
                "value": answer["value"],
                "label": answer["label"],
                "appointment_id": data["appointment_id"],
            }
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()
