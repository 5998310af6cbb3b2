"""Everything stored about one patient, for /mydata: readable text and a JSON document."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.records.export import followup_dict, intake_dict, score_dict
from bot.vocabulary import rendering
from bot.vocabulary.outgoing import Document, Reply
from storage import Delivery, Patient, Storage


async def collect(
    storage: Storage, patient: Patient, catalog: Catalog, tz: ZoneInfo
) -> dict[str, Any]:
    """The patient's data as one JSON-ready dictionary."""
    consents = await storage.consents(patient.id)
    intakes = await storage.intake_records(telegram_user_id=patient.telegram_user_id)
    appointments = await storage.patient_appointments(patient.id)
    followups = await storage.followup_records(patient.telegram_user_id)
    messages = await storage.thread_messages(patient.id)
    changed = [
        (record.intake.id, question_id, value)
        for record in intakes
        for question_id, value in await storage.answer_changes(record.intake.id)
    ]
    scores = await storage.scores(
        catalog.questionnaire.scored, telegram_user_id=patient.telegram_user_id
    )
    return {
        "patient": {
            "telegram_user_id": patient.telegram_user_id,
            "first_name": patient.first_name,
            "username": patient.username,
            "language": patient.language,
            "reminders_enabled": patient.reminders_enabled,
            "first_seen": patient.created_at.astimezone(tz).isoformat(),
        },
        "consents": [
            {"given": c.given, "text_version": c.text_version, "at": c.recorded_at.isoformat()}
            for c in consents
        ],
        "intakes": [intake_dict(record, catalog, tz) for record in intakes],
        "appointments": [
            {
                "starts_at": a.starts_at.astimezone(tz).isoformat(),
                "status": a.status,
                "attendance": a.attendance,
                "note": a.note,
            }
            for a in appointments
        ],
        "followups": [followup_dict(record, catalog, tz) for record in followups],
        # Answers replaced from the summary ("Change an answer"): kept for the record.
        "changed_answers": [
            {
                "intake_id": intake_id,
                "question_id": question_id,
                "value": value,
                "label": rendering.answer_label(catalog, question_id, value),
            }
            for intake_id, question_id, value in changed
        ],
        # Pain and activities at each visit, with their dates (/progress draws them).
        "scores": [score_dict(score, catalog, tz) for score in scores],
        "messages": [
            {
                "written_at": m.written_at.astimezone(tz).isoformat(),
                "from": str(m.author),
                "text": m.text,
                "delivered": m.delivery is Delivery.DELIVERED,
            }
            for m in messages
        ],
    }


def readable(catalog: Catalog, data: dict[str, Any]) -> list[Reply]:
    """The same data as messages a patient can read."""
    p = data["patient"]
    yes, no = catalog.text("mydata.yes"), catalog.text("mydata.no")
    lines = [
        catalog.text("mydata.heading"),
        "",
        catalog.text(
            "mydata.profile",
            id=p["telegram_user_id"],
            name=p["first_name"] or "-",
            language=p["language"],
            reminders=catalog.text("mydata.on" if p["reminders_enabled"] else "mydata.off"),
        ),
    ]
    lines += [
        catalog.text("mydata.consent", answer=yes if c["given"] else no, date=c["at"][:10])
        for c in data["consents"]
    ]
    for intake in data["intakes"]:
        lines += [
            "",
            catalog.text(
                "mydata.intake",
                intake=intake["intake_id"],
                started=intake["started_at"][:16].replace("T", " "),
                status=catalog.text(f"practitioner.status_{intake['status']}"),
            ),
        ]
        lines += [
            catalog.text(
                "summary.line", question=catalog.short(a["question_id"]), answer=a["label"]
            )
            for a in intake["answers"]
        ]
    for appointment in data["appointments"]:
        lines.append(
            catalog.text(
                f"mydata.appointment_{appointment['status']}",
                date=appointment["starts_at"][:16].replace("T", " "),
            )
        )
    for followup in data["followups"]:
        lines += ["", catalog.text("mydata.followup", date=(followup["sent_at"] or "")[:10])]
        lines += [
            catalog.text(
                "summary.line", question=catalog.short(a["question_id"]), answer=a["label"]
            )
            for a in followup["answers"]
        ]
    if data["messages"]:
        lines += ["", catalog.text("mydata.messages")]
        authors = {
            "clinic": catalog.text("mydata.from_clinic"),
            "patient": catalog.text("mydata.from_you"),
        }
        lines += [
            catalog.text(
                "mydata.message_line",
                date=m["written_at"][:16].replace("T", " "),
                author=authors[m["from"]],
                text=m["text"],
            )
            for m in data["messages"]
        ]
    return rendering.pack(lines, separator="\n")


def document(catalog: Catalog, data: dict[str, Any]) -> Document:
    """The JSON file sent with /mydata."""
    body = json.dumps(data, ensure_ascii=False, indent=2).encode()
    return Document("my-data.json", body, catalog.text("mydata.file_caption"))
