"""A returning patient's short intake: their pain history and screening shown as they were,
to confirm or change one by one; every red flag asked afresh in one message; what was carried
forward marked for the practitioner."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.content import Content
from bot.scheduling.checkins import CheckIns
from bot.vocabulary.outgoing import Outcome
from storage import DueMessage, PlannedMessage, Storage, utc_now
from tests.conftest import PRACTITIONER, conversation
from tests.support.conversation import Conversation
from tests.support.patient_flow import (
    PAT,
    answer_all,
    completed_intake,
    data_for,
    last_keyboard,
    press,
    texts,
)

HISTORY = ["areas", "cause", "duration", "ashi_point"]
SAFETY = 13


async def again(service: Conversation) -> Outcome:
    """A second intake after a completed one, at its first step."""
    await completed_intake(service)
    return await press(service, await service.start(PAT), "Start a new intake")


async def test_nothing_changed_carries_the_history_and_screening_forward_and_marks_them(
    service: Conversation, storage: Storage, content: Content
) -> None:
    first = await again(service)
    asked = last_keyboard(first).html
    assert asked.startswith("Question 1 of 5\n\nWelcome back! This is what you told me")
    assert "• Where it hurts: Neck &amp; shoulders, Lower back &amp; hips" in asked
    assert "• For how long: More than 12 weeks" in asked and "Pain now" not in asked
    outcome = await press(service, first, "Nothing changed")
    assert outcome.edit is not None and "Your answer: Nothing changed" in outcome.edit.html
    assert "Question 2 of 5" in texts(outcome) and "How strong is the pain" in texts(outcome)
    outcome = await press(service, outcome, "3")
    flags = last_keyboard(outcome)
    assert "Question 3 of 5" in flags.html and "Do you have any of these now?" in flags.html
    en = content.catalog("en")
    for q in en.questionnaire.intake:
        if q.group == "red_flag":  # each named in full
            assert f"• {en.text(f'questions.{q.id}.in_full')}" in flags.html
    outcome = await press(service, outcome, "None of these")
    screening = last_keyboard(outcome).html
    assert "Question 4 of 5" in screening and "• Under 18: No" in screening
    assert screening.count("• ") == SAFETY
    outcome = await press(service, outcome, "No changes")
    assert "Question 5 of 5" in texts(outcome) and "What does the pain make hard" in texts(outcome)
    summary = await press(service, outcome, "Skip")
    assert "Please check your answers" in texts(summary) and "Just type it" in texts(summary)

    # A note typed at the summary, then changed: the last one stands, the first is history.
    noted = await service.text(PAT, "Better on the left")
    assert "Your note is saved" in texts(noted) and "Notes: Better on the left" in texts(noted)
    noted = await service.text(PAT, "Better on the left side")
    done = await press(service, noted, "Confirm")
    assert "Thank you" in texts(done)

    [_, record] = await storage.intake_records()
    answers = record.decoded_answers()
    assert sorted(record.carried) == sorted(
        [*HISTORY, *(q.id for q in en.questionnaire.intake if q.group == "screening")]
    )
    assert answers["intensity"] == 3 and answers["notes"] == "Better on the left side"
    assert all(answers[q] == "no" for q in answers if q.startswith("rf_"))
    assert await storage.answer_changes(record.intake.id) == [("notes", "Better on the left")]
    note = done.notifications[0].reply.html
    assert "↺ <b>Returning patient</b>: answers marked ↺ are from intake #1" in note
    assert "• Where it hurts: Neck &amp; shoulders, Lower back &amp; hips ↺" in note
    assert "• Pain now (0-10): 3\n" in note  # measured today: no mark
    assert f"Safety answers: {SAFETY} of {SAFETY} confirmed unchanged." in note
    assert "Red flags: all asked again in one message, none reported." in note


async def test_some_things_changed_asks_only_what_the_patient_picks(
    service: Conversation, storage: Storage
) -> None:
    outcome = await press(service, await again(service), "Some things changed")
    picking = last_keyboard(outcome)
    assert "What has changed?" in picking.html
    assert [b.label for row in picking.keyboard for b in row] == [
        "Where it hurts",
        "Brought on by",
        "For how long",
        "Tender spot when pressed",
        "That's all",
    ]
    outcome = await press(service, outcome, "For how long")
    assert "Your answer was: More than 12 weeks" in texts(outcome)
    outcome = await press(service, outcome, "6 to 12 weeks")
    assert "What has changed?" in texts(outcome) and "For how long: 6 to 12 weeks" in texts(outcome)
    # The areas: "somewhere else" added, so where else is asked once that is all.
    outcome = await press(service, outcome, "Where it hurts")
    outcome = await press(service, outcome, "Somewhere else")
    outcome = await press(service, outcome, "Done")
    assert "What has changed?" in texts(outcome)
    outcome = await press(service, outcome, "That's all")
    assert "Where else do you feel pain?" in texts(outcome) and "Question 1 of 5" in texts(outcome)
    outcome = await service.text(PAT, "left heel")
    assert "How strong is the pain" in texts(outcome)
    # A second tap on an answered block step is told, nothing changes.
    stale = await service.button(PAT, data_for(picking, "That's all"))
    assert stale.toast == "You have already answered this question."
    outcome = await press(service, outcome, "5")

    # Screening: one answer changed, a yes: the caution is said at the summary.
    outcome = await press(service, outcome, "None of these")
    outcome = await press(service, outcome, "Something changed")
    outcome = await press(service, outcome, "Pregnant or could be")
    assert "Are you pregnant, or could you be?" in texts(outcome)
    outcome = await press(service, outcome, "Yes")
    assert "Which answer has changed?" in texts(outcome)
    outcome = await press(service, outcome, "That's all")
    summary = await press(service, outcome, "Skip")
    assert "You answered yes to some safety questions" in texts(summary)
    done = await press(service, summary, "Confirm")

    [_, record] = await storage.intake_records()
    assert {"duration", "areas", "areas_other", "pregnancy"}.isdisjoint(record.carried)
    assert {"cause", "ashi_point", "under_18"} <= set(record.carried)
    assert record.decoded_answers()["areas_other"] == "left heel"
    note = done.notifications[0].reply.html
    assert "• For how long: 6 to 12 weeks\n" in note and "• Brought on by: Long" in note
    assert "• Pregnant or could be: Yes\n" in note
    assert f"Safety answers: {SAFETY - 1} of {SAFETY} confirmed unchanged." in note
    assert "Red flags: all asked again in one message, none reported." in note


async def test_a_changed_area_removes_the_somewhere_else_it_closes(
    service: Conversation, storage: Storage
) -> None:
    outcome = await service.start(PAT)
    outcome = await press(service, outcome, "I agree")
    outcome = await press(service, outcome, "Somewhere else")
    outcome = await press(service, outcome, "Done")
    outcome = await service.text(PAT, "left foot")
    for label in ("Exercise or sport", "4", "Less than a week", "No"):
        outcome = await press(service, outcome, label)
    outcome = await answer_all(service, outcome)
    outcome = await press(service, outcome, "Skip")
    await press(service, outcome, "Confirm")
    outcome = await press(service, await service.start(PAT), "Start a new intake")
    assert "Other area: left foot" in texts(outcome)
    outcome = await press(service, outcome, "Some things changed")
    outcome = await press(service, outcome, "Where it hurts")
    outcome = await press(service, outcome, "Arms")
    outcome = await press(service, outcome, "Somewhere else")  # unticked
    outcome = await press(service, outcome, "Done")
    assert "“Other area” no longer applies, so that answer was removed." in texts(outcome)
    picking = last_keyboard(outcome).html
    assert "What has changed?" in picking and "Other area" not in picking
    outcome = await press(service, outcome, "That's all")
    outcome = await unchanged_since_pain(service, outcome)
    [_, record] = await storage.intake_records()
    assert "areas_other" not in record.decoded_answers()


async def unchanged_since_pain(service: Conversation, outcome: Outcome) -> Outcome:
    """From the pain question on, nothing to report."""
    for label in ("2", "None of these", "No changes", "Skip"):
        outcome = await press(service, outcome, label)
    assert "Please check your answers" in texts(outcome)
    return outcome


async def test_yes_one_or_more_asks_each_red_flag_and_advises_at_once(
    service: Conversation, storage: Storage
) -> None:
    outcome = await press(service, await again(service), "Nothing changed")
    outcome = await press(service, outcome, "6")
    outcome = await press(service, outcome, "Yes, one or more")
    assert "Question 3 of 5" in texts(outcome) and "spreading in an arm or a leg" in texts(outcome)
    # Told at once, in case the patient stops before saying which.
    [listed] = outcome.notifications
    assert "yes to one or more of the red flags listed together" in listed.reply.html
    outcome = await press(service, outcome, "No")
    outcome = await press(service, outcome, "Yes")  # bladder or bowel
    assert "This needs emergency care now" in texts(outcome)
    [alert] = outcome.notifications
    assert alert.chat_id == PRACTITIONER and "Red flag" in alert.reply.html
    for _ in range(4):
        outcome = await press(service, outcome, "No")
    assert "Is all of this still the same?" in texts(outcome)  # the screening, as before
    outcome = await press(service, outcome, "No changes")
    done = await press(service, await press(service, outcome, "Skip"), "Confirm")
    note = done.notifications[0].reply.html
    assert "URGENT red flags" in note and "none reported" not in note
    [_, record] = await storage.intake_records()
    assert record.intake.urgent and [f.flag for f in record.red_flags] == ["rf_bladder_bowel"]


async def completed_days_ago(
    tmp_path: Path, days: int, content: Content, checkins: CheckIns
) -> Storage:
    """A database where PAT completed an intake `days` ago, open at the present."""
    path = tmp_path / "earlier.sqlite3"
    long_ago = await Storage.open(path, clock=lambda: utc_now() - timedelta(days=days))
    await completed_intake(conversation(long_ago, content, checkins))
    await long_ago.close()
    return await Storage.open(path)


async def test_a_last_intake_older_than_the_window_asks_everything(
    tmp_path: Path, content: Content, checkins: CheckIns
) -> None:
    storage = await completed_days_ago(tmp_path, 181, content, checkins)
    try:
        service = conversation(storage, content, checkins)
        outcome = await press(service, await service.start(PAT), "Start a new intake")
        assert "Where do you feel pain?" in texts(outcome) and "of 26" in texts(outcome)
    finally:
        await storage.close()


async def test_with_the_window_off_every_intake_asks_everything(
    storage: Storage, content: Content, checkins: CheckIns
) -> None:
    service = conversation(storage, content, checkins, 0)
    await completed_intake(service)
    outcome = await press(service, await service.start(PAT), "Start a new intake")
    assert "Where do you feel pain?" in texts(outcome) and "of 26" in texts(outcome)


async def test_start_over_and_a_restart_after_a_pause_come_back_to_the_first_step(
    service: Conversation,
) -> None:
    outcome = await press(service, await again(service), "Nothing changed")
    await service.cancel(PAT)
    resumed = await press(service, await service.start(PAT), "Continue")
    assert "How strong is the pain" in texts(resumed)
    typed = await service.text(PAT, "hello")
    assert "Please answer with the buttons" in texts(typed)  # not a scale answer
    restarted = await press(service, await service.start(PAT), "Start over")
    assert "Has any of this changed since then?" in texts(restarted)
    sticker = await service.unexpected(PAT, edited=False)
    assert "Has any of this changed since then?" in texts(sticker)
    word = await service.text(PAT, "nothing")
    assert "Please answer with the buttons" in texts(word)
    assert outcome.edit is not None


async def test_the_invitation_says_it_is_the_short_one_for_a_returning_patient(
    service: Conversation, storage: Storage, checkins: CheckIns
) -> None:
    async def invitation() -> str:
        patient = await storage.patient_by_telegram_id(PAT.user_id)
        assert patient is not None
        starts = utc_now() + timedelta(days=40)
        plan = [PlannedMessage("intake", -86400, starts - timedelta(days=1))]
        appointment = await storage.add_appointment(starts, plan, patient_id=patient.id)
        assert appointment is not None
        [message] = await storage.messages_for(appointment.id)
        return (await checkins.compose(DueMessage(message, appointment, patient))).html

    await press(service, await service.start(PAT), "No thanks")
    assert "it takes about 4 min." in await invitation()
    await completed_intake(service)
    short = await invitation()
    assert "this time it is the short version" in short and "about 1 min." in short


async def test_an_erased_earlier_intake_leaves_the_intake_returning_and_its_marks(
    tmp_path: Path, content: Content, checkins: CheckIns
) -> None:
    storage = await completed_days_ago(tmp_path, 200, content, checkins)
    try:
        service = conversation(storage, content, checkins, 365)
        outcome = await press(service, await service.start(PAT), "Start a new intake")
        outcome = await press(service, outcome, "Nothing changed")
        await storage.purge_before(utc_now() - timedelta(days=100))  # retention: #1 goes
        outcome = await press(service, outcome, "3")
        assert "Question 3 of 5" in texts(outcome)  # still the short intake
        outcome = await press(service, outcome, "None of these")
        # The screening's earlier answers are gone: each is asked, none carried unseen.
        assert "Question 4 of 5" in texts(outcome) and "Are you under 18" in texts(outcome)
        for _ in range(13):
            outcome = await press(service, outcome, "No")
        outcome = await press(service, outcome, "Skip")  # no activities
        done = await press(service, outcome, "Confirm")
        note = done.notifications[0].reply.html
        assert "answers marked ↺ are from an earlier intake (erased since)" in note
        assert "• Where it hurts: Neck &amp; shoulders, Lower back &amp; hips ↺" in note
        assert "Safety answers: 0 of 13 confirmed unchanged." in note
    finally:
        await storage.close()


async def test_an_answer_no_longer_valid_is_asked_with_what_depends_on_it(
    service: Conversation, storage: Storage
) -> None:
    await completed_intake(service)
    [first] = await storage.intake_records()
    # As if the clinic had since removed an option: the earlier areas are no answer now.
    await storage.save_answer(first.intake.id, "areas", ["elbows", "other"])
    await storage.save_answer(first.intake.id, "areas_other", "left heel")
    outcome = await press(service, await service.start(PAT), "Start a new intake")
    shown = last_keyboard(outcome).html
    assert "Where it hurts" not in shown and "left heel" not in shown
    outcome = await press(service, outcome, "Nothing changed")
    assert "Where do you feel pain?" in texts(outcome)
    outcome = await press(service, outcome, "Somewhere else")
    outcome = await press(service, outcome, "Done")
    assert "Where else do you feel pain?" in texts(outcome)  # asked, not carried unseen
    [_, record] = await storage.intake_records()
    assert {"areas", "areas_other"}.isdisjoint(record.carried) and "cause" in record.carried


async def test_yes_to_the_list_then_no_to_each_is_flagged_meanwhile_and_said_in_the_summary(
    service: Conversation, storage: Storage
) -> None:
    outcome = await press(service, await again(service), "Nothing changed")
    outcome = await press(service, outcome, "6")
    outcome = await press(service, outcome, "Yes, one or more")
    flagged = await storage.intake_records(flagged=True)
    assert [r.intake.status for r in flagged] == ["completed", "in_progress"]
    for _ in range(6):
        outcome = await press(service, outcome, "No")
    outcome = await press(service, outcome, "No changes")
    done = await press(service, await press(service, outcome, "Skip"), "Confirm")
    note = done.notifications[0].reply.html
    assert "Red flags: yes to the list of them, then no to each when asked one by one." in note
    assert "URGENT" not in note
