"""A follow-up check-in sent to a patient, and tapping its buttons."""

from __future__ import annotations

from datetime import timedelta

from bot.scheduling.checkins import CheckIns
from bot.vocabulary.outgoing import Outcome
from bot.vocabulary.people import Who
from storage import DueMessage, MessageStatus, PlannedMessage, Storage, utc_now
from tests.support.conversation import Conversation
from tests.support.patient_flow import data_for, last_keyboard


async def sent_followup(
    checkins: CheckIns,
    storage: Storage,
    who: Who,
    after: timedelta = timedelta(hours=24),
    *,
    consented: bool = True,
) -> tuple[int, Outcome]:
    """A follow-up sent `after` the patient's appointment: its id and what it says (the
    first question, for a patient who has consented as patients with check-ins have)."""
    patient = await storage.ensure_patient(who.user_id, who.chat_id, who.language_code or "en")
    if consented:
        await storage.record_consent(patient.id, True, "v")
    starts = utc_now() - after
    plan = [PlannedMessage("followup", int(after.total_seconds()), utc_now())]
    appointment = await storage.add_appointment(starts, plan, patient_id=patient.id)
    assert appointment is not None
    [message] = await storage.messages_for(appointment.id)
    await storage.finish_message(message.id, MessageStatus.SENT, first_step="fu_soreness")
    sent = await storage.scheduled_message(message.id)
    assert sent is not None
    reply = await checkins.compose(DueMessage(sent, appointment, patient))
    return sent.id, Outcome(replies=[reply])


async def tap(service: Conversation, who: Who, outcome: Outcome, label: str) -> Outcome:
    return await service.button(who, data_for(last_keyboard(outcome), label))
