"""The intake conversation, driven through the domain service without Telegram."""

from bot.vocabulary.people import Who
from storage import IntakeStatus, Storage
from tests.conftest import PRACTITIONER
from tests.support.conversation import Conversation
from tests.support.patient_flow import (
    PAT,
    agreed,
    answer_all,
    completed_intake,
    data_for,
    last_keyboard,
    press,
    texts,
    through_pain_questions,
    unchanged_since,
)


async def test_full_intake_stores_every_answer_and_notifies_the_practitioner(
    service: Conversation, storage: Storage
) -> None:
    outcome = await through_pain_questions(service)
    outcome = await answer_all(service, outcome, **{"afraid of needles": "Yes"})
    outcome = await service.text(PAT, "I sit a lot <b>really</b>")
    assert "Please check your answers" in texts(outcome)
    assert "I sit a lot &lt;b&gt;really&lt;/b&gt;" in texts(outcome)
    assert "The practitioner will go over them" in texts(outcome)
    outcome = await press(service, outcome, "Confirm")

    body = texts(outcome)
    assert "Neck and shoulder tension" in body
    assert "Lower back, hip and pelvic discomfort" in body
    assert "1\u20133 meaningful twitches" in body
    assert "Dr. Byoungjin Na" in body
    assert all(len(r.html) <= 4096 for r in outcome.replies)

    [note] = outcome.notifications
    assert note.chat_id == PRACTITIONER
    assert "Mina @mina" in note.reply.html
    assert "Fear of needles or fainting: Yes" in note.reply.html
    assert "Pain now (0-10): 6" in note.reply.html
    assert "&lt;b&gt;really" in note.reply.html
    assert "Link code: clinic_ref-1" in note.reply.html

    [record] = await storage.intake_records()
    assert record.intake.status is IntakeStatus.COMPLETED
    answers = record.decoded_answers()
    assert answers["areas"] == ["neck_shoulders", "lower_back_hips"]
    assert answers["intensity"] == 6
    assert answers["needle_fear"] == "yes"
    assert answers["notes"] == "I sit a lot <b>really</b>"
    assert answers["psfs"] is None  # the activities skipped: not given, never a zero
    assert len(answers) == 26  # every question but the "other area" follow-up


async def test_refusing_consent_stores_only_the_refusal(
    service: Conversation, storage: Storage
) -> None:
    outcome = await service.start(PAT, "ref123")
    outcome = await press(service, outcome, "No thanks")
    assert "send /start" in texts(outcome)
    patient = await storage.patient_by_telegram_id(PAT.user_id)
    assert patient is not None
    assert patient.first_name is None and patient.username is None
    assert await storage.intake_records() == []
    consent = await storage.latest_consent(patient.id)
    assert consent is not None and not consent.given


async def test_red_flag_gets_urgent_advice_at_once_and_marks_the_intake(
    service: Conversation, storage: Storage
) -> None:
    outcome = await through_pain_questions(service)
    while "chest pain" not in texts(outcome):
        outcome = await press(service, outcome, "No")
    outcome = await press(service, outcome, "Yes")
    assert "This needs emergency care now" in texts(outcome)  # as urgent as the advice
    assert "Call your local emergency number now" in texts(outcome)
    [alert] = outcome.notifications
    assert alert.chat_id == PRACTITIONER
    assert "Red flag</b> from Mina @mina (id 42): Chest pain" in alert.reply.html
    outcome = await answer_all(service, outcome)
    outcome = await press(service, outcome, "Skip")
    outcome = await press(service, outcome, "Confirm")
    # The guide opens with the flag's advice again, and has no tips for home.
    guide = texts(outcome)
    assert guide.index("This needs emergency care now") < guide.index("Neck and shoulder")
    assert "What you can do in the meantime" not in guide
    note = outcome.notifications[0].reply.html
    assert note.index("URGENT") < note.index("Pain</b>")
    assert "Chest pain: Yes" in note
    [record] = await storage.intake_records()
    assert record.intake.urgent
    assert [f.flag for f in record.red_flags] == ["rf_chest_pain"]


async def test_the_next_summary_recalls_the_red_flags_of_earlier_intakes(
    service: Conversation, storage: Storage
) -> None:
    outcome = await through_pain_questions(service)
    outcome = await answer_all(service, outcome, **{"chest pain": "Yes"})
    outcome = await press(service, outcome, "Skip")
    first = await press(service, outcome, "Confirm")
    assert "Red flags in earlier intakes" not in first.notifications[0].reply.html
    [earlier] = await storage.intake_records()

    restart = await service.start(PAT)
    outcome = await press(service, restart, "Start a new intake")
    outcome = await unchanged_since(service, outcome, 3)
    outcome = await press(service, outcome, "Skip")  # no activities
    second = await press(service, outcome, "Confirm")

    note = second.notifications[0].reply.html
    assert "URGENT" not in note  # nothing urgent in this one
    assert "⚠️ <b>Red flags in earlier intakes</b>\n• Chest pain (last in #" in note
    assert f"#{earlier.intake.id}, " in note


async def test_stale_and_forged_buttons_are_answered_with_the_current_question(
    service: Conversation,
) -> None:
    outcome = await service.start(PAT)
    consent = last_keyboard(outcome)
    outcome = await press(service, outcome, "I agree")
    again = await service.button(PAT, data_for(consent, "I agree"))
    assert again.toast and "earlier message" in again.toast
    assert "Where do you feel pain" in texts(again)
    forged = await service.button(PAT, "a:99999:intensity:10")
    assert "Where do you feel pain" in texts(forged)
    garbage = await service.button(PAT, "<script>")
    assert garbage.toast


async def test_text_where_a_button_is_expected_shows_the_question_again(
    service: Conversation,
) -> None:
    outcome = await agreed(service)
    outcome = await service.text(PAT, "my neck")
    assert "answer with the buttons" in texts(outcome)
    assert "Where do you feel pain" in texts(outcome)


async def test_done_without_a_choice_asks_for_one(service: Conversation) -> None:
    outcome = await agreed(service)
    outcome = await press(service, outcome, "Done")
    assert outcome.toast == "Please choose at least one answer first."


async def test_other_area_asks_for_a_description_and_forgets_it_when_unticked(
    service: Conversation, storage: Storage
) -> None:
    outcome = await agreed(service)
    areas = await press(service, outcome, "Somewhere else")
    outcome = await press(service, areas, "Done")
    assert "Where else do you feel pain" in texts(outcome)
    outcome = await service.text(PAT, "left foot")
    assert "What brought the pain on" in texts(outcome)
    intake = await storage.open_intake((await storage.patient_by_telegram_id(42)).id)  # type: ignore[union-attr]
    assert intake is not None
    assert (await storage.answers(intake.id))["areas_other"] == "left foot"


async def test_cancel_keeps_answers_and_start_offers_to_continue(
    service: Conversation, storage: Storage
) -> None:
    outcome = await through_pain_questions(service)
    paused = await service.cancel(PAT)
    assert "answers so far are kept" in texts(paused)
    resumed = await service.start(PAT)
    assert "continue where you left off" in texts(resumed)
    outcome = await press(service, resumed, "Continue")
    assert "spreading in an arm or a leg" in texts(outcome)
    [record] = await storage.intake_records()
    assert record.decoded_answers()["ashi_point"] == "yes"


async def test_delete_erases_everything_after_confirmation(
    service: Conversation, storage: Storage
) -> None:
    await through_pain_questions(service)
    outcome = await service.delete(PAT)
    kept = await press(service, outcome, "No, keep my data")
    assert kept.edit and "Nothing was erased" in kept.edit.html
    assert len(await storage.intake_records()) == 1
    outcome = await service.delete(PAT)
    done = await press(service, outcome, "Yes, erase everything")
    assert done.edit and "erased" in done.edit.html
    assert await storage.intake_records() == []
    assert await storage.patient_by_telegram_id(PAT.user_id) is None


async def test_over_long_text_is_refused_not_truncated(service: Conversation) -> None:
    outcome = await through_pain_questions(service)
    await answer_all(service, outcome)
    refused = await service.text(PAT, "x" * 1001)
    assert "under 1000 characters" in texts(refused)
    accepted = await service.text(PAT, "x" * 1000)
    assert "Please check your answers" in texts(accepted)


async def test_unexpected_input_explains_and_shows_the_way_back(service: Conversation) -> None:
    idle = await service.unexpected(PAT, edited=False)
    assert "only read text" in texts(idle) and "/start" in texts(idle)
    outcome = await service.start(PAT)
    await press(service, outcome, "I agree")
    edited = await service.unexpected(PAT, edited=True)
    assert "edited messages" in texts(edited)
    assert "Where do you feel pain" in texts(edited)


async def test_guide_is_available_again_after_completion(service: Conversation) -> None:
    assert "completed an intake" in texts(await service.guide(PAT))
    outcome = await through_pain_questions(service)
    outcome = await answer_all(service, outcome)
    outcome = await press(service, outcome, "Skip")
    await press(service, outcome, "Confirm")
    again = await service.guide(PAT)
    assert "Neck and shoulder tension" in texts(again)
    restart = await service.start(PAT)
    assert "already completed an intake" in texts(restart)
    new = await press(service, restart, "Start a new intake")
    # Consent on record: straight to the questions, the short way for a returning patient.
    assert "Has any of this changed since then?" in texts(new)


async def test_text_after_cancel_is_not_taken_as_an_answer(
    service: Conversation, storage: Storage
) -> None:
    outcome = await agreed(service)
    outcome = await press(service, outcome, "Somewhere else")
    outcome = await press(service, outcome, "Done")
    assert "Where else do you feel pain" in texts(outcome)
    await service.cancel(PAT)
    ignored = await service.text(PAT, "when is my appointment?")
    assert "paused" in texts(ignored)
    resumed = await press(service, await service.start(PAT), "Continue")
    assert "Where else do you feel pain" in texts(resumed)
    await service.text(PAT, "left foot")
    [record] = await storage.intake_records()
    assert record.decoded_answers()["areas_other"] == "left foot"


async def test_a_double_tap_is_acknowledged_without_repeating_anything(
    service: Conversation, storage: Storage
) -> None:
    outcome = await agreed(service)
    outcome = await press(service, outcome, "Arms")
    outcome = await press(service, outcome, "Done")
    question = last_keyboard(outcome)
    await service.button(PAT, data_for(question, "Exercise or sport"))
    again = await service.button(PAT, data_for(question, "Not sure"))
    assert again.toast == "You have already answered this question."
    assert again.replies == [] and again.edit is None
    [record] = await storage.intake_records()
    assert record.decoded_answers()["cause"] == "exercise"
    assert record.intake.step == "intensity"


async def test_nothing_is_stored_before_consent_and_the_payload_follows_it(
    service: Conversation, storage: Storage
) -> None:
    outcome = await service.start(PAT, "flyer_7")
    assert await storage.intake_records() == []
    await press(service, outcome, "I agree")
    [record] = await storage.intake_records()
    assert record.intake.start_payload == "flyer_7"
    assert record.patient.first_name == "Mina"


async def test_start_over_from_the_summary_opens_a_fresh_intake(
    service: Conversation, storage: Storage
) -> None:
    outcome = await through_pain_questions(service)
    outcome = await answer_all(service, outcome)
    outcome = await press(service, outcome, "Skip")
    outcome = await press(service, outcome, "Start over")
    assert "Question 1 of" in texts(outcome)
    first, second = await storage.intake_records()
    assert first.intake.status is IntakeStatus.RESTARTED
    assert second.intake.status is IntakeStatus.IN_PROGRESS
    assert second.intake.start_payload == "clinic_ref-1"
    assert second.answers == ()


async def test_declining_consent_later_erases_earlier_intakes(
    service: Conversation, storage: Storage
) -> None:
    await completed_intake(service)
    patient = await storage.patient_by_telegram_id(PAT.user_id)
    assert patient is not None
    # The consent text has changed since, so the patient is asked again, and says no.
    await storage.record_consent(patient.id, True, "an older consent text")
    outcome = await service.start(PAT)
    assert "Do you agree" in texts(outcome)
    asked = await press(service, outcome, "No thanks")
    # Withdrawing erases what /delete erases, after the same question (issue 12).
    await press(service, asked, "Yes, erase everything")
    assert await storage.intake_records() == []
    forgotten = await storage.patient_by_telegram_id(PAT.user_id)
    assert forgotten is not None and forgotten.first_name is None


async def test_confirm_pressed_again_sends_the_guide_only_if_it_never_went_out(
    service: Conversation, storage: Storage
) -> None:
    outcome = await through_pain_questions(service)
    outcome = await answer_all(service, outcome)
    summary = await press(service, outcome, "Skip")
    done = await press(service, summary, "Confirm")
    assert done.guided_intake is not None and "Thank you" in texts(done)
    # Handled again before the thank-you and guide reached the patient (a crash): they
    # go out now, without completing or notifying a second time.
    again = await press(service, summary, "Confirm")
    assert "Thank you" in texts(again) and "What to expect" in texts(again)
    assert again.notifications == [] and again.edit is None
    await service.mark_guided(done.guided_intake)
    # Once they arrived, the old button is just an old button.
    late = await press(service, summary, "Confirm")
    assert "Thank you" not in texts(late)


async def test_help_adds_the_practitioners_commands_for_practitioners_only(
    service: Conversation,
) -> None:
    patient_help = await service.command(PAT, "help")
    [text] = [r.html for r in patient_help.replies]
    assert "/delete" in text and "/today" not in text
    doc = Who(user_id=PRACTITIONER, chat_id=PRACTITIONER, first_name="Doc", language_code="en")
    practitioner_help = await service.command(doc, "help")
    general, staff = (r.html for r in practitioner_help.replies)
    assert general == text
    for command in ("/today", "/upcoming", "/intakes", "/flagged", "/patient ID", "/export"):
        assert command in staff
