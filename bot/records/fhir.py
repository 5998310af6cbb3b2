"""Intakes as an HL7 FHIR R4B Bundle: the intake Questionnaire, one Patient per patient, one
QuestionnaireResponse per intake and an Observation per score (pain with its LOINC code, the
PSFS text-coded with a component per activity), as plain JSON-ready dictionaries.

Identifiers are stable: linkIds are the question ids, answer codes are the questionnaire's codes
(one code system per question, `urn:ashi:answers:<question id>`), and every entry's fullUrl is a
`urn:uuid:` derived (uuid5) from the ids it stands for, so exporting twice gives the same urls.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

from bot.content import Catalog
from bot.questionnaire import Group, Kind, Measure, Question
from bot.scores.activities import parse
from storage import Carried, IntakeRecord, IntakeStatus, Patient, Score

QUESTIONNAIRE_URL = "urn:ashi:questionnaire:intake"
QUESTIONNAIRE_NAME = "AshiIntake"
ANSWER_SYSTEM = "urn:ashi:answers:"
TELEGRAM_ID_SYSTEM = "urn:ashi:telegram-user-id"
TAG_SYSTEM = "urn:ashi:tags"
CONTENT_VERSION_SYSTEM = "urn:ashi:content-version"
URGENT_TAG = {"system": TAG_SYSTEM, "code": "urgent", "display": "Urgent red flag"}
# On a returning patient's answer carried forward from an earlier intake: when the patient
# confirmed it unchanged.
CONFIRMED_UNCHANGED_URL = "urn:ashi:confirmed-unchanged"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
SHORT_TEXT = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-shortText"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
LOINC_SYSTEM = "http://loinc.org"
SURVEY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
        }
    ]
}

# QuestionnaireResponse.status (R4B, required binding) for each intake status.
RESPONSE_STATUS: dict[IntakeStatus, str] = {
    IntakeStatus.COMPLETED: "completed",
    IntakeStatus.IN_PROGRESS: "in-progress",
    IntakeStatus.RESTARTED: "stopped",
}

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ashi")
# The parts of one activity of an activities question (a repeating group).
ACTIVITY = "activity"
RATING = "rating"
UCUM = "http://unitsofmeasure.org"


class _Text(HTMLParser):
    """Collects the text of Telegram HTML, with character references resolved."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(telegram_html: str) -> str:
    """Telegram HTML as plain text: tags dropped, entities unescaped."""
    parser = _Text()
    parser.feed(telegram_html)
    parser.close()
    return "".join(parser.parts).strip()


def full_url(*parts: object) -> str:
    """A stable `urn:uuid:` for the resource named by `parts`."""
    return f"urn:uuid:{_uuid(*parts)}"


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(part) for part in parts)))


def answer_system(question_id: str) -> str:
    """The code system of one question's answer codes."""
    return f"{ANSWER_SYSTEM}{question_id}"


def _coding(catalog: Catalog, question_id: str, code: str) -> dict[str, Any]:
    return {
        "system": answer_system(question_id),
        "code": code,
        "display": catalog.option(question_id, code),
    }


def _item_type(q: Question) -> str:
    if q.kind is Kind.ACTIVITIES:
        return "group"
    if q.kind is Kind.SCALE:
        return "integer"
    if q.kind is Kind.TEXT:
        return "text" if q.group is Group.NOTES else "string"
    return "choice"


def _scale_bounds(q: Question) -> tuple[int, int]:
    values = [int(code) for code in q.codes]
    return min(values), max(values)


def _item_text(catalog: Catalog, question_id: str) -> str:
    return plain_text(catalog.prompt(question_id))


def _questionnaire_item(catalog: Catalog, q: Question) -> dict[str, Any]:
    item: dict[str, Any] = {
        "extension": [{"url": SHORT_TEXT, "valueString": catalog.short(q.id)}],
        "linkId": q.id,
        "text": _item_text(catalog, q.id),
        "type": _item_type(q),
        # An activities question may be skipped (not given): its group is optional.
        "required": not q.optional and q.kind is not Kind.ACTIVITIES,
    }
    if q.loinc is not None:
        item["code"] = [{"system": LOINC_SYSTEM, "code": q.loinc}]
    if q.kind is Kind.SCALE:
        low, high = _scale_bounds(q)
        item["extension"] += [
            {"url": MIN_VALUE, "valueInteger": low},
            {"url": MAX_VALUE, "valueInteger": high},
        ]
    if q.kind is Kind.MULTI:
        item["repeats"] = True
    if q.kind is Kind.ACTIVITIES:
        # One group per activity: its name in the patient's words and its rating, 0-10.
        item["repeats"] = True
        item["item"] = [
            {
                "linkId": f"{q.id}.{ACTIVITY}",
                "text": catalog.raw("export.activity"),
                "type": "string",
                "required": True,
            },
            {
                "extension": [
                    {"url": MIN_VALUE, "valueInteger": 0},
                    {"url": MAX_VALUE, "valueInteger": 10},
                ],
                "linkId": f"{q.id}.{RATING}",
                "text": catalog.raw("export.activity_rating"),
                "type": "integer",
                "required": True,
            },
        ]
    if q.asked_when is not None:
        earlier, code = q.asked_when.question, q.asked_when.code
        item["enableWhen"] = [
            {
                "question": earlier,
                "operator": "=",
                "answerCoding": {"system": answer_system(earlier), "code": code},
            }
        ]
    if q.kind in (Kind.CHOICE, Kind.YES_NO, Kind.MULTI):
        item["answerOption"] = [{"valueCoding": _coding(catalog, q.id, code)} for code in q.codes]
    return item


def _questionnaire_key(catalog: Catalog, version: str) -> tuple[str, ...]:
    return ("questionnaire", QUESTIONNAIRE_URL, version, catalog.language)


def questionnaire_resource(catalog: Catalog, *, version: str) -> dict[str, Any]:
    """The intake questionnaire (as asked, in `catalog`'s language) as a FHIR Questionnaire."""
    return {
        "resourceType": "Questionnaire",
        "id": _uuid(*_questionnaire_key(catalog, version)),
        "language": catalog.language,
        "url": QUESTIONNAIRE_URL,
        "version": version,
        "name": QUESTIONNAIRE_NAME,
        "title": catalog.text("export.questionnaire_title"),
        "status": "active",
        "subjectType": ["Patient"],
        "item": [_questionnaire_item(catalog, q) for q in catalog.questionnaire.intake],
    }


def _patient_url(patient: Patient) -> str:
    return full_url("patient", patient.telegram_user_id)


def patient_resource(patient: Patient) -> dict[str, Any]:
    """A patient as FHIR Patient: Telegram id, first name, t.me link and language when known."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": _uuid("patient", patient.telegram_user_id),
        "identifier": [{"system": TELEGRAM_ID_SYSTEM, "value": str(patient.telegram_user_id)}],
    }
    if patient.first_name:
        resource["name"] = [{"text": patient.first_name, "given": [patient.first_name]}]
    if patient.username:
        resource["telecom"] = [{"system": "url", "value": f"https://t.me/{patient.username}"}]
    if patient.language:
        resource["communication"] = [
            {"language": {"coding": [{"system": LANGUAGE_SYSTEM, "code": patient.language}]}}
        ]
    return resource


def _iso(moment: datetime, timezone: ZoneInfo) -> str:
    """An ISO 8601 timestamp with offset, in the clinic's time zone (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(timezone).isoformat()


def _answers(catalog: Catalog, q: Question, value: object) -> list[dict[str, Any]]:
    """The FHIR answers for one stored value; empty when the value does not fit the question."""
    if q.kind is Kind.MULTI:
        codes = value if isinstance(value, list) else []
        return [
            {"valueCoding": _coding(catalog, q.id, code)}
            for code in codes
            if isinstance(code, str) and code in q.codes
        ]
    if q.kind in (Kind.CHOICE, Kind.YES_NO):
        if isinstance(value, str) and value in q.codes:
            return [{"valueCoding": _coding(catalog, q.id, value)}]
        return []
    if q.kind is Kind.SCALE:
        low, high = _scale_bounds(q)
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return [{"valueInteger": value}]
        return []
    if isinstance(value, str) and value.strip():
        return [{"valueString": value}]
    return []


def _activity_items(catalog: Catalog, q: Question, value: object) -> list[dict[str, Any]]:
    """One response group per rated activity of an activities answer."""
    answer = parse(value)
    return [
        {
            "linkId": q.id,
            "text": _item_text(catalog, q.id),
            "item": [
                {"linkId": f"{q.id}.{ACTIVITY}", "answer": [{"valueString": a.name}]},
                {"linkId": f"{q.id}.{RATING}", "answer": [{"valueInteger": a.rating}]},
            ],
        }
        for a in (answer.rated if answer else ())
    ]


def _response_items(
    catalog: Catalog,
    answers: Mapping[str, object],
    carried: Mapping[str, Carried],
    timezone: ZoneInfo,
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for q in catalog.questionnaire.intake:
        if q.id not in answers or not q.applies(answers):
            continue
        if q.kind is Kind.ACTIVITIES:
            items += _activity_items(catalog, q, answers[q.id])
            continue
        found = _answers(catalog, q, answers[q.id])
        if not found:
            continue
        item: dict[str, Any] = {"linkId": q.id, "text": _item_text(catalog, q.id), "answer": found}
        if q.id in carried:
            confirmed = _iso(carried[q.id].confirmed_at, timezone)
            item["extension"] = [{"url": CONFIRMED_UNCHANGED_URL, "valueDateTime": confirmed}]
        items.append(item)
    return items


def response_resource(
    record: IntakeRecord, catalog: Catalog, *, version: str, timezone: ZoneInfo
) -> dict[str, Any]:
    """One intake as a FHIR QuestionnaireResponse; its subject is the patient's entry."""
    intake, patient = record.intake, record.patient
    authored = intake.completed_at or intake.started_at
    subject: dict[str, Any] = {"reference": _patient_url(patient)}
    if patient.first_name:
        subject["display"] = patient.first_name
    # The content version the patient answered under (the texts may have changed since).
    tags = [{"system": CONTENT_VERSION_SYSTEM, "code": intake.content_version}]
    if intake.urgent:
        tags.insert(0, dict(URGENT_TAG))
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": _uuid("intake", intake.id),
        "identifier": {"system": "urn:ashi:intake-id", "value": str(intake.id)},
        "questionnaire": f"{QUESTIONNAIRE_URL}|{version}",
        "status": RESPONSE_STATUS[intake.status],
        "subject": subject,
        "authored": _iso(authored, timezone),
        "source": dict(subject),
    }
    if any(tag["code"] for tag in tags):
        resource["meta"] = {"tag": [tag for tag in tags if tag["code"]]}
    items = _response_items(catalog, record.decoded_answers(), record.carried, timezone)
    if items:  # FHIR JSON has no empty arrays
        resource["item"] = items
    return resource


def _observation(
    catalog: Catalog,
    q: Question,
    value: object,
    *,
    key: tuple[object, ...],
    patient: Patient,
    at: datetime,
    final: bool,
    timezone: ZoneInfo,
) -> dict[str, Any] | None:
    """A score as an Observation: pain with its LOINC code and integer value, the PSFS
    text-coded with its mean and a component per activity; None when not given."""
    if q.measure is Measure.FUNCTION:
        answer = parse(value)
        if answer is None or answer.score is None:
            return None
        code: dict[str, Any] = {"text": catalog.raw("export.psfs")}
        found: dict[str, Any] = {
            "valueQuantity": {"value": answer.score, "system": UCUM, "code": "{score}"},
            "component": [
                {"code": {"text": a.name}, "valueInteger": a.rating} for a in answer.rated
            ],
        }
    else:
        values = _answers(catalog, q, value)
        if q.loinc is None or not values:
            return None
        code = {"coding": [{"system": LOINC_SYSTEM, "code": q.loinc}], "text": catalog.short(q.id)}
        found = values[0]
    return {
        "resourceType": "Observation",
        "id": _uuid("observation", *key, q.id),
        "status": "final" if final else "preliminary",
        "category": [SURVEY],
        "code": code,
        "subject": {"reference": _patient_url(patient)},
        "effectiveDateTime": _iso(at, timezone),
        **found,
    }


def observation_resources(
    record: IntakeRecord, catalog: Catalog, *, timezone: ZoneInfo
) -> list[dict[str, Any]]:
    """An Observation per score of an intake (pain now, the PSFS), derived from the intake's
    QuestionnaireResponse; none for an intake started over."""
    intake, patient = record.intake, record.patient
    if intake.status is IntakeStatus.RESTARTED:
        return []
    answered = {answer.question_id: answer for answer in record.answers}
    decoded = record.decoded_answers()
    found = []
    for q in catalog.questionnaire.intake:
        if q.id not in answered or (q.loinc is None and q.measure is not Measure.FUNCTION):
            continue
        observation = _observation(
            catalog,
            q,
            decoded[q.id],
            key=(intake.id,),
            patient=patient,
            at=answered[q.id].answered_at,
            final=intake.status is IntakeStatus.COMPLETED,
            timezone=timezone,
        )
        if observation is not None:
            observation["derivedFrom"] = [{"reference": full_url("intake", intake.id)}]
            found.append(observation)
    return found


def followup_observations(
    scores: Sequence[Score],
    patients: Mapping[int, Patient],
    catalog: Catalog,
    *,
    timezone: ZoneInfo,
) -> list[dict[str, Any]]:
    """An Observation per score given in a follow-up check-in (of a patient in `patients`,
    by Telegram id): the check-in is no QuestionnaireResponse, so each refers to its patient
    and names its check-in in an identifier."""
    found = []
    for score in scores:
        patient = patients.get(score.telegram_user_id)
        if score.followup_id is None or patient is None:
            continue
        q = catalog.questionnaire.question(score.question_id)
        observation = _observation(
            catalog,
            q,
            score.value,
            key=("followup", score.followup_id),
            patient=patient,
            at=score.at,
            final=True,
            timezone=timezone,
        )
        if observation is not None:
            observation["identifier"] = [
                {"system": "urn:ashi:followup-id", "value": str(score.followup_id)}
            ]
            found.append(observation)
    return found


def bundle(
    records: Sequence[IntakeRecord],
    catalog: Catalog,
    *,
    version: str,
    timezone: ZoneInfo,
    now: datetime | None = None,
    followup_scores: Sequence[Score] = (),
) -> dict[str, Any]:
    """A FHIR collection Bundle: the Questionnaire, each distinct Patient, then one
    QuestionnaireResponse per intake in the order given, each followed by its Observations
    (its scores), then the Observations of `followup_scores` (of those patients). `now` is
    the bundle's timestamp."""
    questionnaire = questionnaire_resource(catalog, version=version)
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": full_url(*_questionnaire_key(catalog, version)),
            "resource": questionnaire,
        }
    ]
    seen: dict[int, Patient] = {}
    for record in records:
        patient = record.patient
        if patient.telegram_user_id not in seen:
            seen[patient.telegram_user_id] = patient
            entries.append(
                {"fullUrl": _patient_url(patient), "resource": patient_resource(patient)}
            )
    for record in records:
        entries.append(
            {
                "fullUrl": full_url("intake", record.intake.id),
                "resource": response_resource(record, catalog, version=version, timezone=timezone),
            }
        )
        for observation in observation_resources(record, catalog, timezone=timezone):
            url = f"urn:uuid:{observation['id']}"  # full_url("observation", intake, question)
            entries.append({"fullUrl": url, "resource": observation})
    for observation in followup_observations(followup_scores, seen, catalog, timezone=timezone):
        entries.append({"fullUrl": f"urn:uuid:{observation['id']}", "resource": observation})
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _iso(now or datetime.now(UTC), timezone),
        "entry": entries,
    }
