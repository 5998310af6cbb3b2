"""Intakes as JSON or CSV for the practitioner's own records."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from bot import render
from bot.content import Catalog
from storage import IntakeRecord

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


def to_json(records: Iterable[IntakeRecord], catalog: Catalog) -> str:
    """All intakes as a JSON document."""
    data = {"intakes": [intake_dict(record, catalog) for record in records]}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula (patient text is untrusted)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(records: Iterable[IntakeRecord], catalog: Catalog) -> str:
    """All intakes as CSV, one row per answer (an intake without answers gets one row)."""
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
    return out.getvalue()
