"""The FHIR R4B export: validated with fhir.resources, enumerations checked here."""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from bot.content import Content
from bot.questionnaire import Kind
from bot.records import fhir
from bot.vocabulary.outgoing import Outcome
from bot.vocabulary.people import Who
from storage import IntakeRecord, IntakeStatus, Storage
from tests.conftest import CLINIC_TZ
from tests.support.conversation import Conversation
from tests.support.patient_flow import last_keyboard
from tests.support.questionnaire import ORDER, QUESTIONS

MINA = Who(user_id=42, chat_id=42, first_name="Mina", username="mina", language_code="en")
JO = Who(user_id=7, chat_id=7, first_name="Jo", language_code="en")
VERSION = "c0ffee123456"
NOW = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
OTHER_AREA = "left foot & <ankle>"
NOTES = "I take <b>aspirin</b> & fear needles"
ACTIVITIES = [("Lift my child", 3), ("Sit through a <film>", 5)]

MODELS: dict[str, Any] = {
    "Questionnaire": Questionnaire,
    "Patient": Patient,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Observation": Observation,
}
# QuestionnaireResponse.status, R4B (required binding).
R4B_RESPONSE_STATUS = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
# Questionnaire.item.type, R4B, and the answer value each question type takes.
ANSWER_VALUE = {
    "boolean": "valueBoolean",
    "decimal": "valueDecimal",
    "integer": "valueInteger",
    "date": "valueDate",
    "dateTime": "valueDateTime",
    "time": "valueTime",
    "string": "valueString",
    "text": "valueString",
    "url": "valueUri",
    "choice": "valueCoding",
    "open-choice": "valueCoding",
    "attachment": "valueAttachment",
    "reference": "valueReference",
    "quantity": "valueQuantity",
}
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"


# Driving intakes through the service ------------------------------------------------------


async def press(service: Conversation, who: Who, outcome: Outcome, label: str) -> Outcome:
    reply = last_keyboard(outcome)
    for row in reply.keyboard:
        for button in row:
            if button.label.removeprefix("✅ ") == label:
                return await service.button(who, button.data)
    raise AssertionError(f"no button {label!r} in {reply.keyboard}")


async def answer_safety(
    service: Conversation,
    who: Who,
    outcome: Outcome,
    yes: str | None = None,
    activities: Sequence[tuple[str, int]] = (),
) -> Outcome:
    """Answer red-flag and screening questions No (Yes where the question has `yes`), and
    name and rate `activities` (else skip them)."""
    while "Anything else the practitioner should know" not in last_keyboard(outcome).html:
        asked = last_keyboard(outcome).html
        assert re.search(r"Question \d+ of \d+", asked), asked
        if "What does the pain make hard" in asked:
            for name, rating in activities:
                outcome = await service.text(who, name)
                outcome = await press(service, who, outcome, str(rating))
            outcome = await press(service, who, outcome, "Done" if activities else "Skip")
            continue
        outcome = await press(service, who, outcome, "Yes" if yes and yes in asked else "No")
    return outcome


async def completed_urgent_intake(service: Conversation) -> None:
    """Mina: several areas and another, a red flag (chest pain), notes, confirmed."""
    outcome = await press(service, MINA, await service.start(MINA), "I agree")
    for label in ("Neck & shoulders", "Lower back & hips", "Somewhere else", "Done"):
        outcome = await press(service, MINA, outcome, label)
    outcome = await service.text(MINA, OTHER_AREA)
    for label in ("An injury", "7", "6 to 12 weeks", "Not sure"):
        outcome = await press(service, MINA, outcome, label)
    outcome = await answer_safety(service, MINA, outcome, yes="chest pain", activities=ACTIVITIES)
    outcome = await service.text(MINA, NOTES)
    await press(service, MINA, outcome, "Confirm")


async def restarted_then_in_progress(service: Conversation) -> None:
    """Jo: a full intake with notes skipped, started over at the summary, then two answers."""
    outcome = await press(service, JO, await service.start(JO), "I agree")
    for label in ("Arms", "Done", "Exercise or sport", "3", "Less than a week", "No"):
        outcome = await press(service, JO, outcome, label)
    outcome = await answer_safety(service, JO, outcome)
    outcome = await press(service, JO, outcome, "Skip")
    outcome = await press(service, JO, outcome, "Start over")
    for label in ("Legs & calves", "Done", "Not sure"):
        outcome = await press(service, JO, outcome, label)


@pytest.fixture
async def records(service: Conversation, storage: Storage) -> list[IntakeRecord]:
    await completed_urgent_intake(service)
    await restarted_then_in_progress(service)
    found = await storage.intake_records()
    assert [r.intake.status for r in found] == [
        IntakeStatus.COMPLETED,
        IntakeStatus.RESTARTED,
        IntakeStatus.IN_PROGRESS,
    ]
    assert found[0].intake.urgent and not found[1].intake.urgent
    return found


@pytest.fixture
def data(records: list[IntakeRecord], content: Content) -> dict[str, Any]:
    return fhir.bundle(records, content.catalog("en"), version=VERSION, timezone=CLINIC_TZ, now=NOW)


# Checks the fhir.resources models do not make ------------------------------------------------


def resources(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind]


def responses(data: dict[str, Any]) -> list[dict[str, Any]]:
    return resources(data, "QuestionnaireResponse")


def empty_values(node: object, path: str = "") -> list[str]:
    """Paths of empty arrays, objects, strings and nulls, which FHIR JSON does not allow."""
    if node is None or node in ("", [], {}):
        return [path]
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in empty_values(value, f"{path}.{key}")]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in empty_values(value, f"{path}[{i}]")]
    return []


def leaf_problems(
    where: str, item: dict[str, Any], answers: list[dict[str, Any]], options: dict[Any, str]
) -> list[str]:
    """What is wrong with the answers given to one (non-group) item."""
    found = []
    if len(answers) > 1 and not item.get("repeats", False):
        found.append(f"{where}: several answers, item does not repeat")
    for answer in answers:
        keys = [key for key in answer if key.startswith("value")]
        if keys != [ANSWER_VALUE[item["type"]]]:
            found.append(f"{where}: {keys} for a {item['type']} item")
            continue
        value = answer[keys[0]]
        if "valueCoding" in answer:
            key = (value.get("system"), value.get("code"))
            if key not in options:
                found.append(f"{where}: coding {key} not an option")
            elif value.get("display") != options[key]:
                found.append(f"{where}: display {value.get('display')!r}")
        if "valueInteger" in answer:
            bounds = {e["url"]: e.get("valueInteger") for e in item.get("extension", [])}
            low, high = bounds.get(MIN_VALUE), bounds.get(MAX_VALUE)
            if low is None or high is None or not low <= value <= high:
                found.append(f"{where}: {value} outside {low}..{high}")
    return found


def problems(data: dict[str, Any]) -> list[str]:
    """Everything wrong with the bundle's codes, references and answers (empty when fine)."""
    found: list[str] = [f"empty value at {path}" for path in empty_values(data)]
    by_url = {entry["fullUrl"]: entry["resource"] for entry in data["entry"]}
    if len(by_url) != len(data["entry"]):
        found.append("duplicate fullUrl")
    [questionnaire] = resources(data, "Questionnaire")
    items = {item["linkId"]: item for item in questionnaire["item"]}
    order = list(items)
    canonical = f"{questionnaire['url']}|{questionnaire['version']}"
    options: dict[str, dict[tuple[str, str], str]] = {}
    parts: dict[str, dict[str, Any]] = {}  # the items inside groups
    for link_id, item in items.items():
        if item["type"] == "group":
            # A repeating group (the activities question), its parts leaf items.
            children = item.get("item", [])
            if not item.get("repeats") or not children:
                found.append(f"{link_id}: a group needs repeats and its parts")
            parts.update({child["linkId"]: child for child in children})
            leaves = children
        else:
            leaves = [item]
        for leaf in leaves:
            if leaf["type"] not in ANSWER_VALUE:
                found.append(f"{leaf['linkId']}: item type {leaf['type']!r}")
            options[leaf["linkId"]] = {
                (o["valueCoding"]["system"], o["valueCoding"]["code"]): o["valueCoding"]["display"]
                for o in leaf.get("answerOption", [])
            }
            if leaf["type"] == "choice" and not options[leaf["linkId"]]:
                found.append(f"{leaf['linkId']}: choice without options")
    for response in responses(data):
        where = response["id"]
        if response["status"] not in R4B_RESPONSE_STATUS:
            found.append(f"{where}: status {response['status']!r}")
        if response["questionnaire"] != canonical:
            found.append(f"{where}: questionnaire {response['questionnaire']!r}")
        subject = by_url.get(response["subject"]["reference"])
        if subject is None or subject["resourceType"] != "Patient":
            found.append(f"{where}: subject {response['subject']['reference']!r}")
        if datetime.fromisoformat(response["authored"]).tzinfo is None:
            found.append(f"{where}: authored without offset")
        answered: dict[str, list[dict[str, Any]]] = {}
        positions: list[int] = []
        for given in response.get("item", []):
            link_id = given["linkId"]
            item = items.get(link_id)
            if item is None:
                found.append(f"{where}: unknown linkId {link_id!r}")
                continue
            positions.append(order.index(link_id))
            if item["type"] == "group":
                inside = [part["linkId"] for part in given.get("item", [])]
                if inside != [child["linkId"] for child in item["item"]] or "answer" in given:
                    found.append(f"{where}/{link_id}: group parts {inside}")
                    continue
                leaves_given = [(part["linkId"], part["answer"]) for part in given["item"]]
            else:
                answered[link_id] = given["answer"]
                leaves_given = [(link_id, given["answer"])]
            for leaf_id, answers in leaves_given:
                leaf = items.get(leaf_id) or parts[leaf_id]
                found += leaf_problems(f"{where}/{leaf_id}", leaf, answers, options[leaf_id])
        repeated = {p for p in positions if positions.count(p) > 1}
        if positions != sorted(positions) or any(
            not (items[order[p]]["type"] == "group" and items[order[p]].get("repeats"))
            for p in repeated
        ):
            found.append(f"{where}: items not in questionnaire order")
        for link_id in answered:
            for condition in items[link_id].get("enableWhen", []):
                wanted = condition["answerCoding"]
                given_codings = [
                    a.get("valueCoding") for a in answered.get(condition["question"], [])
                ]
                if condition["operator"] != "=" or not any(
                    c and (c["system"], c["code"]) == (wanted["system"], wanted["code"])
                    for c in given_codings
                ):
                    found.append(f"{where}/{link_id}: answered but not enabled")
    return found


# Tests ----------------------------------------------------------------------------------


async def test_every_resource_validates_with_the_r4b_models(data: dict[str, Any]) -> None:
    Bundle.model_validate(data)
    kinds = [entry["resource"]["resourceType"] for entry in data["entry"]]
    # The completed intake's pain score is an Observation too; the restarted one has none.
    assert kinds == [
        "Questionnaire",
        "Patient",
        "Patient",
        "QuestionnaireResponse",
        "Observation",
        "Observation",
        "QuestionnaireResponse",
        "QuestionnaireResponse",
    ]
    for entry in data["entry"]:
        resource = entry["resource"]
        model = MODELS[resource["resourceType"]].model_validate(resource)
        assert model.get_resource_type() == resource["resourceType"]
        # Nothing was dropped or renamed on the way in (the model writes UTC offsets as Z).
        utc_as_z = json.loads(json.dumps(resource).replace('+00:00"', 'Z"'))
        assert model.model_dump(mode="json", exclude_none=True) == utc_as_z


async def test_each_pain_score_is_an_observation_with_its_loinc_code(
    data: dict[str, Any],
) -> None:
    by_url = {entry["fullUrl"]: entry["resource"] for entry in data["entry"]}
    [questionnaire] = resources(data, "Questionnaire")
    [intensity] = [i for i in questionnaire["item"] if i["linkId"] == "intensity"]
    assert intensity["code"] == [{"system": "http://loinc.org", "code": "72514-3"}]
    [pain, psfs] = resources(data, "Observation")
    assert psfs["code"] == {"text": Content.load().catalog("en").raw("export.psfs")}
    assert psfs["valueQuantity"]["value"] == 4.0  # the mean of 3 and 5
    assert psfs["component"] == [
        {"code": {"text": name}, "valueInteger": rating} for name, rating in ACTIVITIES
    ]
    assert psfs["derivedFrom"] == pain["derivedFrom"]
    for observation in [pain]:
        assert observation["code"]["coding"] == intensity["code"]
        assert observation["category"][0]["coding"][0]["code"] == "survey"
        source = by_url[observation["derivedFrom"][0]["reference"]]
        assert source["resourceType"] == "QuestionnaireResponse"
        assert observation["subject"] == {"reference": source["subject"]["reference"]}
        [answer] = [i["answer"] for i in source["item"] if i["linkId"] == "intensity"]
        assert observation["valueInteger"] == answer[0]["valueInteger"]
        assert observation["status"] == "final"  # from a completed intake
        assert datetime.fromisoformat(observation["effectiveDateTime"]).tzinfo is not None


async def test_codes_references_and_answers_agree_with_the_questionnaire(
    data: dict[str, Any],
) -> None:
    assert problems(data) == []
    assert {r["status"] for r in responses(data)} == {"completed", "stopped", "in-progress"}


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "status outside R4B": lambda qr: qr.update(status="done"),
    "unknown linkId": lambda qr: qr["item"][1].update(linkId="where_else"),
    "code not an option": lambda qr: qr["item"][2]["answer"][0]["valueCoding"].update(code="x"),
    "other code system": lambda qr: qr["item"][2]["answer"][0]["valueCoding"].update(
        system="urn:ashi:answers:duration"
    ),
    "wrong display": lambda qr: qr["item"][2]["answer"][0]["valueCoding"].update(display="?"),
    "integer above max": lambda qr: qr["item"][3]["answer"][0].update(valueInteger=11),
    "string for a choice": lambda qr: qr["item"][2].update(answer=[{"valueString": "injury"}]),
    "two answers, no repeats": lambda qr: qr["item"][2]["answer"].append(
        copy.deepcopy(qr["item"][2]["answer"][0])
    ),
    "dangling subject": lambda qr: qr["subject"].update(reference="urn:uuid:nobody"),
    "other questionnaire": lambda qr: qr.update(questionnaire="urn:ashi:questionnaire:intake|0"),
    "out of order": lambda qr: qr["item"].reverse(),
    "enabled without other": lambda qr: qr["item"][0]["answer"].pop(),
    "empty answer list": lambda qr: qr["item"][-1].update(answer=[]),
    "empty string": lambda qr: qr["item"][1]["answer"][0].update(valueString=""),
    "authored without offset": lambda qr: qr.update(authored="2025-06-01T10:00:00"),
}


@pytest.mark.parametrize("fault", sorted(MUTATIONS))
async def test_the_checks_catch_each_kind_of_fault(data: dict[str, Any], fault: str) -> None:
    broken = copy.deepcopy(data)
    completed = responses(broken)[0]
    assert [i["linkId"] for i in completed["item"][:4]] == [
        "areas",
        "areas_other",
        "cause",
        "intensity",
    ]
    MUTATIONS[fault](completed)
    assert problems(broken), fault


async def test_the_questionnaire_is_the_intake_as_asked(content: Content) -> None:
    catalog = content.catalog("en")
    q = fhir.questionnaire_resource(catalog, version=VERSION)
    Questionnaire.model_validate(q)
    assert (q["url"], q["version"], q["status"]) == (fhir.QUESTIONNAIRE_URL, VERSION, "active")
    assert q["title"] == "Ashi patient intake"
    korean = fhir.questionnaire_resource(content.catalog("ko"), version=VERSION)
    assert (korean["language"], korean["title"]) == ("ko", "Ashi 사전 문진")
    items = {item["linkId"]: item for item in q["item"]}
    assert list(items) == list(ORDER)
    for qid, item in items.items():
        question = QUESTIONS[qid]
        # The activities (PSFS) may be skipped: not given is no answer.
        skippable = question.optional or question.kind is Kind.ACTIVITIES
        assert item["required"] is not skippable
        assert "<" not in item["text"] and "&" not in item["text"], item["text"]
        expected_type = {
            Kind.SCALE: "integer",
            Kind.TEXT: item["type"],
            Kind.ACTIVITIES: "group",
        }.get(question.kind, "choice")
        assert item["type"] == expected_type
        assert item.get("repeats", False) is (question.kind in (Kind.MULTI, Kind.ACTIVITIES))
        codes = [o["valueCoding"]["code"] for o in item.get("answerOption", [])]
        if question.kind in (Kind.CHOICE, Kind.YES_NO, Kind.MULTI):
            assert codes == list(question.codes)
            assert {o["valueCoding"]["system"] for o in item["answerOption"]} == {
                f"urn:ashi:answers:{qid}"
            }
        else:
            assert codes == []
    assert items["areas"]["text"] == "Where do you feel pain?"
    assert items["areas"]["answerOption"][0]["valueCoding"]["display"] == "Neck & shoulders"
    assert items["rf_chest_pain"]["answerOption"][0]["valueCoding"]["display"] == "Yes"
    assert items["intensity"]["text"].startswith("How strong is the pain right now?\n0 means")
    bounds = {e["url"]: e for e in items["intensity"]["extension"]}
    assert bounds[MIN_VALUE] == {"url": MIN_VALUE, "valueInteger": 0}
    assert bounds[MAX_VALUE] == {"url": MAX_VALUE, "valueInteger": 10}
    assert (items["areas_other"]["type"], items["notes"]["type"]) == ("string", "text")
    assert items["areas_other"]["enableWhen"] == [
        {
            "question": "areas",
            "operator": "=",
            "answerCoding": {"system": "urn:ashi:answers:areas", "code": "other"},
        }
    ]
    assert [qid for qid, item in items.items() if "enableWhen" in item] == ["areas_other"]
    assert items["notes"]["required"] is False


def test_enable_when_mirrors_the_flow() -> None:
    resource = fhir.questionnaire_resource(Content.load().catalog("en"), version=VERSION)
    for item in resource["item"]:
        qid = item["linkId"]
        if "enableWhen" in item:
            (rule,) = item["enableWhen"]
            earlier, code = rule["question"], rule["answerCoding"]["code"]
            assert not QUESTIONS[qid].applies({})
            assert not QUESTIONS[qid].applies({earlier: ["neck_shoulders"]})
            assert QUESTIONS[qid].applies({earlier: [code]})
        else:
            assert QUESTIONS[qid].applies({}), qid


async def test_the_completed_urgent_intake(
    data: dict[str, Any], records: list[IntakeRecord]
) -> None:
    completed = responses(data)[0]
    assert completed["status"] == "completed"
    assert {"system": "urn:ashi:tags", "code": "urgent"}.items() <= completed["meta"]["tag"][
        0
    ].items()
    assert completed["questionnaire"] == f"urn:ashi:questionnaire:intake|{VERSION}"
    finished = records[0].intake.completed_at
    assert finished is not None
    assert completed["authored"] == finished.astimezone(CLINIC_TZ).isoformat()
    assert completed["authored"].endswith("+01:00") or completed["authored"].endswith("+00:00")
    answers = {i["linkId"]: i["answer"] for i in completed["item"] if "answer" in i}
    # Every question applied; the activities a group each.
    linked = [i["linkId"] for i in completed["item"]]
    assert list(dict.fromkeys(linked)) == list(ORDER) and linked.count("psfs") == 2
    groups = [i["item"] for i in completed["item"] if i["linkId"] == "psfs"]
    assert [[part["answer"][0] for part in group] for group in groups] == [
        [{"valueString": name}, {"valueInteger": rating}] for name, rating in ACTIVITIES
    ]
    assert [a["valueCoding"]["code"] for a in answers["areas"]] == [
        "neck_shoulders",
        "lower_back_hips",
        "other",
    ]
    assert answers["areas"][2]["valueCoding"]["display"] == "Somewhere else"
    assert answers["areas_other"] == [{"valueString": OTHER_AREA}]
    assert answers["cause"][0]["valueCoding"]["code"] == "injury"
    assert answers["intensity"] == [{"valueInteger": 7}]
    assert answers["ashi_point"][0]["valueCoding"]["code"] == "not_sure"
    assert answers["rf_chest_pain"][0]["valueCoding"]["code"] == "yes"
    assert answers["rf_bladder_bowel"][0]["valueCoding"]["code"] == "no"
    assert answers["notes"] == [{"valueString": NOTES}]


async def test_restarted_and_in_progress_intakes(data: dict[str, Any]) -> None:
    _, restarted, ongoing = responses(data)
    assert (restarted["status"], ongoing["status"]) == ("stopped", "in-progress")
    for response in (restarted, ongoing):
        assert all(tag["code"] != "urgent" for tag in response.get("meta", {}).get("tag", []))
    restarted_ids = [i["linkId"] for i in restarted["item"]]
    assert "notes" not in restarted_ids  # skipped
    assert "areas_other" not in restarted_ids  # never asked
    # Skipped activities are not given: no group.
    assert restarted_ids == [q for q in ORDER if q not in ("notes", "areas_other", "psfs")]
    assert [i["linkId"] for i in ongoing["item"]] == ["areas", "cause"]
    assert ongoing["item"][0]["answer"] == [
        {
            "valueCoding": {
                "system": "urn:ashi:answers:areas",
                "code": "legs_calves",
                "display": "Legs & calves",
            }
        }
    ]
    assert restarted["subject"] == ongoing["subject"]


async def test_one_patient_per_person_with_telegram_id_and_name(data: dict[str, Any]) -> None:
    by_url = {e["fullUrl"]: e["resource"] for e in data["entry"]}
    mina, jo = resources(data, "Patient")
    assert mina["identifier"] == [{"system": "urn:ashi:telegram-user-id", "value": "42"}]
    assert mina["name"] == [{"text": "Mina", "given": ["Mina"]}]
    assert mina["telecom"] == [{"system": "url", "value": "https://t.me/mina"}]
    assert jo["identifier"][0]["value"] == "7" and "telecom" not in jo
    subjects = [by_url[r["subject"]["reference"]] for r in responses(data)]
    assert subjects == [mina, jo, jo]


async def test_the_bundle_is_stable_json(
    data: dict[str, Any], records: list[IntakeRecord], content: Content
) -> None:
    assert json.loads(json.dumps(data)) == data
    again = fhir.bundle(
        records, content.catalog("en"), version=VERSION, timezone=CLINIC_TZ, now=NOW
    )
    assert again == data
    assert (data["type"], data["timestamp"]) == ("collection", "2025-06-01T10:30:00+01:00")
    for entry in data["entry"]:
        match = re.fullmatch(r"urn:uuid:([0-9a-f-]{36})", entry["fullUrl"])
        assert match and match.group(1) == entry["resource"]["id"]
    assert len({e["fullUrl"] for e in data["entry"]}) == len(data["entry"])
    empty = fhir.bundle([], content.catalog("en"), version=VERSION, timezone=CLINIC_TZ)
    Bundle.model_validate(empty)
    assert [e["fullUrl"] for e in empty["entry"]] == [data["entry"][0]["fullUrl"]]


def test_prompts_become_plain_text() -> None:
    assert fhir.plain_text("<b>A &amp; B</b> &lt;i&gt;\n<i>c</i>") == "A & B <i>\nc"


def test_the_bot_does_not_depend_on_fhir_resources() -> None:
    tree = ast.parse(Path(fhir.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported and not any(name.startswith("fhir") for name in imported)


async def test_a_returning_intake_marks_each_answer_confirmed_unchanged(
    service: Conversation, storage: Storage, content: Content
) -> None:
    await completed_urgent_intake(service)
    outcome = await press(service, MINA, await service.start(MINA), "Start a new intake")
    for label in ("Nothing changed", "5", "None of these", "No changes", "4", "6", "Done"):
        outcome = await press(service, MINA, outcome, label)
    await press(service, MINA, outcome, "Confirm")
    records = await storage.intake_records()
    data = fhir.bundle(records, content.catalog("en"), version=VERSION, timezone=CLINIC_TZ)
    Bundle.model_validate(data)
    first, second = resources(data, "QuestionnaireResponse")
    marked = {
        item["linkId"]: item["extension"][0] for item in second["item"] if "extension" in item
    }
    assert {"areas", "areas_other", "cause", "duration", "pregnancy"} <= set(marked)
    assert {"intensity", "rf_chest_pain", "psfs"}.isdisjoint(marked)
    assert {m["url"] for m in marked.values()} == {fhir.CONFIRMED_UNCHANGED_URL}
    confirmed = records[1].carried["areas"].confirmed_at.astimezone(CLINIC_TZ).isoformat()
    assert marked["areas"]["valueDateTime"] == confirmed
    assert not any("extension" in item for item in first["item"])
