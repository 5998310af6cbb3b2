"""What scheduled messages say, and the patient's answers to them: the intake
invitation, the reminder (attending or rescheduling) and the follow-up check-in."""

from __future__ import annotations

from collections.abc import Collection
from zoneinfo import ZoneInfo

from bot import render
from bot.content import Catalog, Content
from bot.intake.actions import Action, Verb
from bot.intake.outgoing import Keyboard, Notification, Outcome, Reply
from bot.intake.questionnaire import FOLLOWUP, FOLLOWUP_QUESTIONS, Kind
from bot.scheduling.plan import MessageKind
from storage import Appointment, DueMessage, Patient, Storage

SORENESS_ALERT = 7
DONE = "done"
_ORDER = [q.id for q in FOLLOWUP_QUESTIONS]


def needs_attention(question_id: str, value: object) -> bool:
    """Whether a follow-up answer should alert the practitioner."""
    if question_id == "fu_soreness":
        return isinstance(value, int) and value >= SORENESS_ALERT
    if question_id == "fu_compared":
        return value == "worse"
    return question_id == "fu_warning_signs" and value == "yes"


class CheckIns:
    """Composes scheduled messages and handles the answers to them."""

    def __init__(
        self,
        storage: Storage,
        content: Content,
        *,
        clinic_name: str,
        clinic_address: str,
        practitioner_ids: Collection[int],
        timezone: ZoneInfo,
    ) -> None:
        self._storage = storage
        self._content = content
        self._clinic = clinic_name
        self._place = clinic_address or clinic_name
        self._practitioners = sorted(practitioner_ids)
        self._tz = timezone

    @property
    def _staff(self) -> Catalog:
        return self._content.staff

    def _when(self, appointment: Appointment) -> dict[str, str]:
        local = appointment.starts_at.astimezone(self._tz)
        return {"date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H:%M")}

    def _notify(self, reply: Reply) -> list[Notification]:
        return [Notification(chat_id, reply) for chat_id in self._practitioners]

    # Composing ---------------------------------------------------------------------------

    def compose(self, due: DueMessage) -> Reply:
        """The message for a due outbox row, in the patient's language."""
        catalog = self._content.catalog(due.patient.language)
        appointment = due.appointment
        when = self._when(appointment)
        kind = MessageKind(due.message.kind)
        if kind is MessageKind.INTAKE:
            return render.choice(
                catalog,
                "appointments.invitation",
                [
                    (
                        "appointments.invitation_button",
                        Action(Verb.APPOINTMENT_INTAKE, appointment.id),
                    )
                ],
                clinic=self._clinic,
                **when,
            )
        if kind is MessageKind.REMINDER:
            return render.choice(
                catalog,
                "appointments.reminder",
                [
                    ("appointments.attend_button", Action(Verb.ATTEND, appointment.id, "", "yes")),
                    (
                        "appointments.reschedule_button",
                        Action(Verb.ATTEND, appointment.id, "", "reschedule"),
                    ),
                ],
                place=self._place,
                **when,
            )
        first = render.followup_reply(catalog, due.message.id, _ORDER[0])
        intro = catalog.text("followup.intro", date=when["date"])
        return Reply(f"{intro}\n\n{first.html}", first.keyboard)

    def unreachable(self, due: DueMessage) -> list[Notification]:
        """The practitioners' notice that a patient blocked the bot."""
        text = self._staff.text(
            "practitioner.unreachable",
            patient=render.patient_name(self._staff, due.patient),
            date=self._when(due.appointment)["date"],
        )
        return self._notify(Reply(text, self._open(due.patient)))

    def _open(self, patient: Patient) -> Keyboard:
        return render.record_keyboard(self._staff, patient.telegram_user_id, None)

    # Answers -----------------------------------------------------------------------------

    async def _own_appointment(self, patient: Patient, appointment_id: int) -> Appointment | None:
        appointment = await self._storage.appointment(appointment_id)
        if appointment is None or appointment.patient_id != patient.id:
            return None
        return appointment

    async def attend(self, catalog: Catalog, patient: Patient, action: Action) -> Outcome | None:
        """'I'll be there' or 'I need to reschedule'; None if the button is not theirs."""
        appointment = await self._own_appointment(patient, action.intake_id)
        if appointment is None or appointment.status != "scheduled":
            return None
        rescheduling = action.code == "reschedule"
        await self._storage.set_attendance(
            appointment.id, "reschedule" if rescheduling else "confirmed"
        )
        key = "appointments.rescheduling" if rescheduling else "appointments.attending"
        label_key = (
            "appointments.reschedule_button" if rescheduling else "appointments.attend_button"
        )
        chosen = catalog.text("flow.chosen", answer=catalog.text(label_key))
        outcome = Outcome(edit=Reply(chosen), replies=[Reply(catalog.text(key))])
        if rescheduling:
            note = self._staff.text(
                "practitioner.reschedule",
                patient=render.patient_name(self._staff, patient),
                **self._when(appointment),
            )
            outcome.notifications = self._notify(Reply(note, self._open(patient)))
        return outcome

    async def open_followup_text(
        self, catalog: Catalog, patient: Patient, text: str
    ) -> Outcome | None:
        """A text message answers the follow-up note, if one is waiting for it."""
        followup = await self._storage.open_followup(patient.id)
        if (
            followup is None
            or followup.step is None
            or FOLLOWUP[followup.step].kind is not Kind.TEXT
        ):
            return None
        return await self._answer(
            catalog, patient, followup.id, followup.step, text.strip() or None
        )

    async def followup_button(
        self, catalog: Catalog, patient: Patient, action: Action
    ) -> Outcome | None:
        """A follow-up answer button; None if it is stale or not theirs."""
        followup = await self._storage.open_followup(patient.id)
        if followup is None or followup.id != action.intake_id or followup.step != action.question:
            return None
        q = FOLLOWUP[action.question]
        if action.verb is Verb.FOLLOWUP_SKIP and q.optional:
            return await self._answer(catalog, patient, followup.id, q.id, None)
        if action.verb is Verb.FOLLOWUP_ANSWER and action.code in q.codes:
            value: object = int(action.code) if q.kind is Kind.SCALE else action.code
            return await self._answer(catalog, patient, followup.id, q.id, value)
        return None

    async def _answer(
        self, catalog: Catalog, patient: Patient, message_id: int, question_id: str, value: object
    ) -> Outcome:
        earlier = await self._storage.followup_answers(message_id)
        position = _ORDER.index(question_id)
        step = _ORDER[position + 1] if position + 1 < len(_ORDER) else DONE
        await self._storage.save_followup_answer(message_id, question_id, value, step)
        outcome = Outcome(edit=render.answered(catalog, question_id, value))
        if needs_attention(question_id, value):
            if not any(needs_attention(q, v) for q, v in earlier.items()):
                outcome.replies += [
                    Reply(catalog.text("followup.escalation")),
                    Reply(catalog.text("guide.expect.contact")),
                ]
            outcome.notifications = await self._alert(patient, message_id, question_id, value)
        if step == DONE:
            outcome.replies.append(Reply(catalog.text("followup.thanks")))
        else:
            outcome.replies.append(render.followup_reply(catalog, message_id, step))
        return outcome

    async def _alert(
        self, patient: Patient, message_id: int, question_id: str, value: object
    ) -> list[Notification]:
        message = await self._storage.scheduled_message(message_id)
        appointment = await self._storage.appointment(message.appointment_id) if message else None
        date = self._when(appointment)["date"] if appointment else "-"
        staff = self._staff
        heading = staff.text(
            "practitioner.followup_alert", patient=render.patient_name(staff, patient), date=date
        )
        line = render.answer_lines(staff, "practitioner.line", {question_id: value}, [question_id])
        return self._notify(Reply("\n".join([heading, *line]), self._open(patient)))
