"""The follow-up check-in's warning signs, driven through the domain service: each sign is
its own one-tap question with its own advice, every answer that needs attention is advised
and alerted, and the closing words fit what was answered and when."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.content import Catalog, Content
from bot.records.export import followup_dict
from bot.scheduling.checkins import CheckIns
from bot.telegram_html import parse_html
from bot.vocabulary import rendering
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Outcome
from bot.vocabulary.people import Who
from storage import MessageStatus, PlannedMessage, Storage, utc_now
from tests.conftest import CLINIC_TZ, PRACTITIONER
from tests.support.conversation import Conversation
from tests.support.followups import sent_followup, tap
from tests.support.patient_flow import data_for
from tests.support.questionnaire import FOLLOWUP_QUESTIONS, FOLLOWUP_WARNING_SIGNS

PAT = Who(user_id=42, chat_id=42, first_name="Mina", username="mina", language_code="en")
SEO = Who(user_id=43, chat_id=43, first_name="Seo", username=None, language_code="ko")
NUMBERS = Content.load(emergency_number="119", clinic_phone="020 7946 0000")
EN = NUMBERS.catalog("en")
KO = NUMBERS.catalog("ko")
REASSURANCE = "Soreness for a day or two after treatment is expected"


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    db = await Storage.open(tmp_path / "ashi.sqlite3")
    yield db
    await db.close()


@pytest.fixture
def checkins(storage: Storage) -> CheckIns:
    return CheckIns(
        storage,
        NUMBERS,
        clinic_name="Test Clinic",
        clinic_address="1 Needle Lane",
        practitioner_ids=[PRACTITIONER],
        timezone=CLINIC_TZ,
    )


@pytest.fixture
def service(storage: Storage, checkins: CheckIns) -> Conversation:
    return Conversation(
        storage,
        NUMBERS,
        checkins,
        clinic_name="Test Clinic",
        practitioner_ids=[PRACTITIONER],
        timezone=CLINIC_TZ,
    )


def seen(outcome: Outcome) -> list[str]:
    """The patient's new messages as they read them (no tags, numbers filled in)."""
    return [parse_html(reply.html).text for reply in outcome.replies]


def alerts(outcome: Outcome) -> list[str]:
    return [n.reply.html for n in outcome.notifications if n.chat_id == PRACTITIONER]


def advice_of(catalog: Catalog, sign: str) -> str:
    """What a patient reads as the advice for a warning sign (first line: its heading)."""
    return parse_html(catalog.text(f"followup.advice.{sign}")).text


async def through(
    service: Conversation, who: Who, outcome: Outcome, labels: list[str]
) -> list[Outcome]:
    outcomes = []
    for label in labels:
        outcome = await tap(service, who, outcome, label)
        outcomes.append(outcome)
    return outcomes


def test_the_check_in_asks_each_warning_sign_on_its_own_between_compared_and_note() -> None:
    assert [q.id for q in FOLLOWUP_QUESTIONS] == [
        "fu_soreness",
        "fu_compared",
        "fu_breathing",
        "fu_infection",
        "fu_numbness",
        "fu_bleeding",
        "fu_pain",
        "fu_psfs",
        "fu_note",
    ]


@pytest.mark.parametrize("sign", FOLLOWUP_WARNING_SIGNS)
async def test_a_yes_to_one_warning_sign_gets_that_signs_advice_and_an_alert(
    service: Conversation, checkins: CheckIns, storage: Storage, sign: str
) -> None:
    _, outcome = await sent_followup(checkins, storage, PAT)
    *_, outcome = await through(service, PAT, outcome, ["2", "Better"])
    for other in FOLLOWUP_WARNING_SIGNS:
        assert EN.prompt(other) in outcome.replies[-1].html
        answer = "Yes" if other == sign else "No"
        outcome = await tap(service, PAT, outcome, answer)
        if other == sign:
            shown = seen(outcome)
            # The advice, then the next question: the advice comes at once.
            assert shown[0] == f"{advice_of(EN, sign)}\n\n{EN.text('followup.advice_footer')}"
            assert "119" in shown[0]
            assert [a for a in alerts(outcome) if f"{EN.short(sign)}: Yes" in a]
            # Not the general "the clinic may contact you" for a warning sign.
            assert "the clinic may contact you" not in "\n".join(shown)
        else:
            assert not alerts(outcome)
            assert not any("⚠️" in text or "🚨" in text for text in seen(outcome))
    outcome = await tap(service, PAT, outcome, "Skip")
    assert seen(outcome)[-1] == parse_html(EN.text("followup.thanks_escalated")).text


async def test_breathing_advice_is_given_even_after_an_earlier_escalation(
    service: Conversation, checkins: CheckIns, storage: Storage
) -> None:
    _, outcome = await sent_followup(checkins, storage, PAT)
    sore, worse, breathing = await through(service, PAT, outcome, ["9", "Worse", "Yes"])
    general = parse_html(EN.text("followup.escalation")).text
    assert general in seen(sore) and len(alerts(sore)) == 1
    # The same general text is not repeated for 'worse', but the practitioner hears of it.
    assert general not in seen(worse) and len(alerts(worse)) == 1
    assert "Pain compared with before: Worse" in alerts(worse)[0]
    emergency = seen(breathing)[0]
    assert emergency.startswith("🚨 Call 119 or go to an emergency")
    assert "needling" in emergency and "collapsed lung" in emergency
    assert "Breathing problems or chest pain: Yes" in alerts(breathing)[0]
    assert parse_html(EN.prompt("fu_infection")).text in seen(breathing)[-1]


async def test_a_korean_patient_gets_the_warning_advice_in_korean(
    service: Conversation, checkins: CheckIns, storage: Storage
) -> None:
    _, outcome = await sent_followup(checkins, storage, SEO)
    yes, no = KO.option("fu_breathing", "yes"), KO.option("fu_breathing", "no")
    answers = ["1", KO.option("fu_compared", "better"), yes, no, yes, no]
    outcomes = await through(service, SEO, outcome, answers)
    breathing, numbness = seen(outcomes[2])[0], seen(outcomes[4])[0]
    assert breathing.startswith("🚨 지금 바로 응급 번호 119로 전화하시거나 응급실로 가세요.")
    assert numbness.startswith(advice_of(KO, "fu_numbness"))
    outcome = await tap(service, SEO, outcomes[-1], KO.text("flow.skip_button"))
    closing = seen(outcome)[-1]
    assert closing == parse_html(KO.text("followup.thanks_escalated")).text
    assert "클리닉(전화 020 7946 0000)에 연락해" in closing
    everything = "\n".join(text for o in [*outcomes, outcome] for text in seen(o))
    assert "Call" not in everything and "needling" not in everything


async def test_closing_words_fit_the_answers_and_the_time_since_treatment(
    service: Conversation, checkins: CheckIns, storage: Storage
) -> None:
    calm = ["2", "Better", "No", "No", "No", "No", "Skip"]
    _, day_after = await sent_followup(checkins, storage, PAT, timedelta(hours=24))
    closing = seen((await through(service, PAT, day_after, calm))[-1])[-1]
    assert REASSURANCE in closing

    _, week_on = await sent_followup(checkins, storage, PAT, timedelta(days=7))
    # A week on, pain now as well; no activities to rate again (none were named).
    week_calm = [*calm[:-1], "3", "Skip"]
    closing = seen((await through(service, PAT, week_on, week_calm))[-1])[-1]
    assert REASSURANCE not in closing
    assert "If your pain is not improving by now" in closing
    assert "contact the clinic on 020 7946 0000" in closing

    _, escalated = await sent_followup(checkins, storage, PAT, timedelta(days=7))
    sore = ["8", "Better", "No", "No", "No", "No", "3", "Skip"]
    closing = seen((await through(service, PAT, escalated, sore))[-1])[-1]
    assert REASSURANCE not in closing and "not improving by now" not in closing
    assert "Please follow the advice above" in closing


async def test_a_button_of_the_old_warning_question_goes_on_with_the_new_ones(
    service: Conversation, checkins: CheckIns, storage: Storage
) -> None:
    message_id, outcome = await sent_followup(checkins, storage, PAT)
    await through(service, PAT, outcome, ["3", "About the same"])
    # As migration 7 leaves a check-in that was waiting for fu_warning_signs.
    old = Action(Verb.FOLLOWUP_ANSWER, message_id, "fu_warning_signs", "yes").encode()
    outcome = await service.button(PAT, old)
    assert outcome.toast == EN.text("errors.stale")
    assert EN.prompt("fu_breathing") in outcome.replies[-1].html
    assert "fu_warning_signs" not in await storage.followup_answers(message_id)
    outcome = await tap(service, PAT, outcome, "Yes")
    assert seen(outcome)[0].startswith("🚨 Call 119")


async def test_old_answers_to_the_warning_question_keep_their_label(storage: Storage) -> None:
    patient = await storage.ensure_patient(44, 44, "en")
    appointment = await storage.add_appointment(
        utc_now(), [PlannedMessage("followup", 86400, utc_now())], patient_id=patient.id
    )
    assert appointment is not None
    [message] = await storage.messages_for(appointment.id)
    await storage.finish_message(message.id, MessageStatus.SENT, first_step="fu_soreness")
    await storage.save_followup_answer(message.id, "fu_warning_signs", "yes", "done")
    [record] = await storage.followup_records(44)
    exported = followup_dict(record, EN, CLINIC_TZ)
    assert exported["answers"] == [
        {"question_id": "fu_warning_signs", "value": "yes", "label": "Yes"}
    ]
    assert rendering.answer_lines(EN, "summary.line", record.answers, ["fu_warning_signs"]) == [
        "• New warning signs: Yes"
    ]


async def test_a_check_in_asks_for_consent_first_and_stores_nothing_without_it(
    service: Conversation, storage: Storage, checkins: CheckIns
) -> None:
    declined = await service.start(PAT)
    await tap(service, PAT, declined, "No thanks")
    # Booked by their id although they said no: the check-in asks for consent, not health.
    message_id, sent = await sent_followup(checkins, storage, PAT, consented=False)
    [ask] = sent.replies
    assert "How sore" not in ask.html and "Do you agree" in ask.html
    # A forged answer button of that check-in stores nothing.
    forged = rendering.followup_reply(EN, message_id, "fu_soreness")
    await service.button(PAT, data_for(forged, "8"))
    assert await storage.followup_answers(message_id) == {}
    # Once they agree, the check-in goes on (no intake is started).
    agreed = await tap(service, PAT, Outcome(replies=[ask]), "I agree")
    assert "How sore is the treated area" in "\n".join(seen(agreed))
    assert await storage.intake_records(telegram_user_id=PAT.user_id) == []
    await tap(service, PAT, agreed, "3")
    assert await storage.followup_answers(message_id) == {"fu_soreness": 3}


async def test_agreeing_to_a_new_consent_text_starts_the_intake_not_an_old_check_in(
    service: Conversation, storage: Storage, checkins: CheckIns
) -> None:
    await sent_followup(checkins, storage, PAT)  # consented, a check-in left unanswered
    patient = await storage.patient_by_telegram_id(PAT.user_id)
    assert patient is not None
    await storage.record_consent(patient.id, True, "an older consent text")
    welcome = await service.start(PAT)
    agreed = await tap(service, PAT, welcome, "I agree")
    assert "Where do you feel pain?" in "\n".join(seen(agreed))
