"""The activities question (the PSFS) as a patient answers it: in the intake, typed and
rated by button with bad input refused kindly; at the next intake and at the +7 d
follow-up the same activities quoted back, with one dropped or added; every step stored."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.scheduling.checkins import CheckIns
from bot.scores.activities import score_of
from bot.vocabulary.outgoing import Outcome
from bot.vocabulary.people import Who
from storage import Storage
from tests.conftest import PRACTITIONER
from tests.support.conversation import Conversation
from tests.support.followups import sent_followup, tap
from tests.support.patient_flow import last_keyboard, texts, unchanged_since

ANN = Who(user_id=5101, chat_id=5101, first_name="Ann", username=None, language_code="en")
PROMPT = "What does the pain make hard"
DATE = r"\d{4}-\d\d-\d\d"


async def to_activities(service: Conversation, who: Who, *, new: bool = False) -> Outcome:
    """An intake up to the activities question (the pain questions, every safety answer No)."""
    outcome = await service.start(who)
    outcome = await tap(service, who, outcome, "Start a new intake" if new else "I agree")
    if "Has any of this changed" in last_keyboard(outcome).html:  # a returning patient
        return await unchanged_since(service, outcome, 6, who)
    for label in ("Neck & shoulders", "Done", "Long sitting or desk work", "6"):
        outcome = await tap(service, who, outcome, label)
    for label in ("More than 12 weeks", "Yes"):
        outcome = await tap(service, who, outcome, label)
    while PROMPT not in last_keyboard(outcome).html:
        outcome = await tap(service, who, outcome, "No")
    return outcome


async def first_visit(service: Conversation, *rated: tuple[str, int]) -> None:
    """A confirmed intake naming and rating these activities (none: the question skipped)."""
    outcome = await to_activities(service, ANN)
    for name, rating in rated:
        outcome = await service.text(ANN, name)
        outcome = await tap(service, ANN, outcome, str(rating))
    outcome = await tap(service, ANN, outcome, "Done" if rated else "Skip")
    outcome = await tap(service, ANN, outcome, "Skip")
    await tap(service, ANN, outcome, "Confirm")


async def psfs_answer(storage: Storage, who: Who) -> object:
    [*_, record] = await storage.intake_records(telegram_user_id=who.user_id)
    return record.decoded_answers().get("psfs")


async def test_activities_are_typed_rated_and_checked_and_each_step_is_stored(
    service: Conversation, storage: Storage
) -> None:
    outcome = await to_activities(service, ANN)
    assert "Question 25 of 26" in last_keyboard(outcome).html
    assert [b.label for row in last_keyboard(outcome).keyboard for b in row] == ["Skip"]

    outcome = await service.text(ANN, "  Carry   the shopping ")
    asked = last_keyboard(outcome)
    assert "<b>Carry the shopping</b>: how well can you do it now?" in asked.html
    assert [b.label for row in asked.keyboard for b in row] == [str(n) for n in range(11)]
    # Typed while a rating is waiting: asked to rate first, nothing added.
    waiting = await service.text(ANN, "Running")
    assert "Please rate <b>Carry the shopping</b> with the buttons first" in texts(waiting)
    outcome = await tap(service, ANN, outcome, "4")
    assert outcome.edit is not None and "✓ Carry the shopping: 4 out of 10" in outcome.edit.html
    assert await psfs_answer(storage, ANN) == {
        "activities": [{"name": "Carry the shopping", "rating": 4, "before": None}],
        "dropped": [],
    }
    assert "or tap <b>Done</b>" in last_keyboard(outcome).html

    too_long = await service.text(ANN, "x" * 61)
    assert "at most 60 characters" in texts(too_long)
    twice = await service.text(ANN, "carry the SHOPPING")
    assert "“carry the SHOPPING” is on your list already" in texts(twice)
    escaped = await service.text(ANN, "Sit <b>still</b>")
    assert "<b>Sit &lt;b&gt;still&lt;/b&gt;</b>: how well" in texts(escaped)
    # A second tap on the first activity's rating does nothing.
    again = await tap(service, ANN, outcome, "Done")
    assert again.toast is not None and again.replies == []
    outcome = await tap(service, ANN, escaped, "7")
    outcome = await tap(service, ANN, outcome, "Done")
    assert "Anything else the practitioner should know" in texts(outcome)
    answer = await psfs_answer(storage, ANN)
    assert isinstance(answer, dict)
    assert [(a["name"], a["rating"]) for a in answer["activities"]] == [
        ("Carry the shopping", 4),
        ("Sit <b>still</b>", 7),
    ]
    outcome = await tap(service, ANN, outcome, "Skip")
    assert (
        "Activities made hard (0-10): Carry the shopping: 4; Sit &lt;b&gt;still&lt;/b&gt;: 7"
        in texts(outcome)
    )
    assert "(score 5.5)" in texts(outcome)


async def test_the_next_visit_quotes_the_activities_back_to_rate_drop_and_add(
    service: Conversation, storage: Storage
) -> None:
    await first_visit(service, ("Run", 2), ("Lift my child", 5))

    outcome = await to_activities(service, ANN, new=True)
    asked = last_keyboard(outcome)
    assert "<b>Run</b>: 2 out of 10 last time." in asked.html
    assert [b.label for row in asked.keyboard for b in row][-1] == "No longer relevant"
    outcome = await tap(service, ANN, outcome, "No longer relevant")
    assert outcome.edit is not None and "Run: no longer relevant" in outcome.edit.html
    assert "<b>Lift my child</b>: 5 out of 10 last time." in last_keyboard(outcome).html
    outcome = await tap(service, ANN, outcome, "8")
    outcome = await service.text(ANN, "Sleep through the night")
    outcome = await tap(service, ANN, outcome, "6")
    outcome = await tap(service, ANN, outcome, "Done")
    answer = await psfs_answer(storage, ANN)
    assert answer == {
        "activities": [
            {"name": "Lift my child", "rating": 8, "before": 5},
            {"name": "Sleep through the night", "rating": 6, "before": None},
        ],
        "dropped": ["Run"],
    }
    assert "Please check your answers" in last_keyboard(outcome).html  # a note may be typed
    confirmed = await tap(service, ANN, outcome, "Confirm")
    # 3.5 -> 7: improved by 3.5 points; kind words for the patient.
    assert re.search(
        rf"Your activities: 3\.5 out of 10 at your first visit on {DATE}, 7 now\.", texts(confirmed)
    )


async def test_the_week_on_check_in_asks_pain_and_rates_the_activities_again(
    service: Conversation, storage: Storage, checkins: CheckIns
) -> None:
    await first_visit(service, ("Run", 3))

    # The day after: neither pain nor the activities (they are for a week on).
    _, day_after = await sent_followup(checkins, storage, ANN, timedelta(hours=24))
    assert "Question 1 of 7" in day_after.replies[0].html
    _, week_on = await sent_followup(checkins, storage, ANN, timedelta(days=7))
    assert "Question 1 of 9" in week_on.replies[0].html
    outcome = week_on
    for label in ("2", "Better", "No", "No", "No", "No"):
        outcome = await tap(service, ANN, outcome, label)
    assert "How strong is the pain you came in with" in last_keyboard(outcome).html
    outcome = await tap(service, ANN, outcome, "3")
    asked = last_keyboard(outcome)
    assert "Question 8 of 9" in asked.html and "<b>Run</b>: 3 out of 10 last time." in asked.html
    outcome = await tap(service, ANN, outcome, "6")  # the only activity: rated, then Done
    outcome = await service.text(ANN, "Run")
    assert "is on your list already" in texts(outcome)
    outcome = await tap(service, ANN, outcome, "Done")
    assert "Question 9 of 9" in last_keyboard(outcome).html
    closed = await tap(service, ANN, outcome, "Skip")
    # The closing words, then the patient's own progress in kind words.
    assert "Thank you! Your answers are saved" in closed.replies[0].html
    assert re.fullmatch(
        rf"Your pain: 6 out of 10 at your first visit on {DATE}, 3 now\. Good to see it easing\.\n"
        rf"Your activities: 3 out of 10 at your first visit on {DATE}, 6 now\. Good to see them"
        r" getting easier\.",
        closed.replies[1].html,
    )
    scores = await storage.scores(["fu_pain", "fu_psfs"], telegram_user_id=ANN.user_id)
    assert [(s.question_id, s.followup_id is not None) for s in scores] == [
        ("fu_pain", True),
        ("fu_psfs", True),
    ]
    progress = await service.command(ANN, "progress")
    assert "Your pain: 6 out of 10 at your first visit" in texts(progress)
    assert "3 now" in texts(progress)
    assert re.search(
        rf"Your activities: 3 out of 10 at your first visit on {DATE}, 6 now\.", texts(progress)
    )


async def test_a_check_in_that_needed_attention_closes_without_a_progress_line(
    service: Conversation, storage: Storage, checkins: CheckIns
) -> None:
    await first_visit(service)
    _, week_on = await sent_followup(checkins, storage, ANN, timedelta(days=7))
    outcome = week_on
    for label in ("8", "Better", "No", "No", "No", "No", "3", "Skip"):
        outcome = await tap(service, ANN, outcome, label)
    closing = texts(outcome)
    assert "Please follow the advice above" in closing
    assert "Your pain" not in closing  # 6 -> 3 would read as good news after an alert


async def test_a_check_in_left_half_way_neither_counts_nor_is_carried_over(
    service: Conversation, storage: Storage, checkins: CheckIns
) -> None:
    await first_visit(service, ("Run", 3), ("Lift", 5))
    _, week_on = await sent_followup(checkins, storage, ANN, timedelta(days=7))
    outcome = week_on
    for label in ("2", "Better", "No", "No", "No", "No", "4", "6"):  # Run 6, then no more
        outcome = await tap(service, ANN, outcome, label)
    assert "<b>Lift</b>: 5 out of 10 last time" in last_keyboard(outcome).html

    # (The check-in's test set-up recorded an older consent text: agreed to again.)
    outcome = await to_activities(service, ANN)
    # Both activities come back, from the intake (the check-in never rated Lift).
    assert "<b>Run</b>: 3 out of 10 last time" in last_keyboard(outcome).html
    scores = await storage.scores(["psfs", "fu_psfs"], telegram_user_id=ANN.user_id)
    half = next(s for s in scores if s.question_id == "fu_psfs")
    assert score_of(half.value) is None  # a gap, not 6


async def test_while_a_rating_waits_text_goes_to_an_open_conversation(
    service: Conversation, storage: Storage
) -> None:
    await to_activities(service, ANN)
    await service.text(ANN, "Run")  # now waiting for Run's rating
    patient = await storage.patient_by_telegram_id(ANN.user_id)
    assert patient is not None
    await storage.open_thread(patient.id, PRACTITIONER)
    await service.text(ANN, "I will be ten minutes late today, sorry")
    assert any("ten minutes late" in text for text in service.relays.to(PRACTITIONER))
