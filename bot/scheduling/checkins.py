"""What scheduled messages say, and the patient's answers to them: the intake
invitation, the reminder (attending or rescheduling) and the follow-up check-in."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.content import Catalog, Content
from bot.intake import views
from bot.intake.returning import DEFAULT_RETURNING_DAYS, returning_from
from bot.intake.typed import TYPED_KINDS, hint, said_back, typed_answer
from bot.outcomes import views as outcome_views
from bot.outcomes.stored import activities_to_rate
from bot.questionnaire import MAX_TEXT_ANSWER, Group, Kind, Questionnaire
from bot.scheduling.plan import MessageKind
from bot.scores.activities import Activities, parse, press
from bot.vocabulary import flow, rendering
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Keyboard, Notification, Outcome, Reply
from bot.vocabulary.people import Who, came_back
from bot.vocabulary.routes import Routes
from storage import (
    Appointment,
    AppointmentStatus,
    Attendance,
    DueMessage,
    Patient,
    ScheduledMessage,
    Storage,
)

DONE = "done"
# A follow-up sent longer than this after the appointment started is a later one (+7 d in
# the default plan): its closing words fit a week on, not the day after.
LATER_FOLLOWUP = timedelta(days=2)


def needs_attention(questions: Questionnaire, question_id: str, value: object) -> bool:
    """Whether a follow-up answer should alert the practitioner."""
    return questions.question(question_id).alerts(value)


def alerting_answers(questions: Questionnaire, answers: Mapping[str, object]) -> dict[str, object]:
    """The answers of a check-in that needed attention, in the order they are asked (an
    answer to a question no longer asked is left out: its alert is not known any more)."""
    return {
        q: answers[q]
        for q in questions.followup_order
        if q in answers and needs_attention(questions, q, answers[q])
    }


def escalated(questions: Questionnaire, answers: Mapping[str, object]) -> bool:
    """Whether any answer of a check-in needed attention."""
    return any(needs_attention(questions, q, v) for q, v in answers.items())


def advice(catalog: Catalog, question_id: str, earlier: Mapping[str, object]) -> list[Reply]:
    """What the patient is told at once after an answer that needs attention.

    Each warning sign has its own advice, always given (a breathing problem gets the
    emergency advice even after an earlier escalation). Other alerting answers (high
    soreness, 'worse') share the general escalation and the guide's when-to-contact text:
    once per check-in.
    """
    questions = catalog.questionnaire
    if questions.question(question_id).group is Group.WARNING_SIGN:
        text = catalog.text(f"followup.advice.{question_id}")
        return [Reply(f"{text}\n\n{catalog.text('followup.advice_footer')}")]
    if any(
        needs_attention(questions, q, v)
        for q, v in earlier.items()
        if questions.question(q).group is not Group.WARNING_SIGN
    ):
        return []
    return [Reply(catalog.text("followup.escalation")), Reply(catalog.text("guide.expect.contact"))]


def is_later(offset_seconds: int | None) -> bool:
    """Whether a follow-up sent this long after the appointment is a later one."""
    return offset_seconds is not None and offset_seconds > LATER_FOLLOWUP.total_seconds()


def closing_key(
    questions: Questionnaire, answers: Mapping[str, object], offset_seconds: int | None
) -> str:
    """The closing text of a finished check-in: never reassuring after an escalation, and
    with words for a week on in a later follow-up."""
    if escalated(questions, answers):
        return "followup.thanks_escalated"
    if is_later(offset_seconds):
        return "followup.thanks_later"
    return "followup.thanks"


@dataclass(frozen=True, slots=True)
class FollowupState:
    """What a follow-up answer needs, read at once: the patient, their open follow-up, its
    answers so far, and whether they consent."""

    catalog: Catalog
    patient: Patient
    followup: ScheduledMessage | None
    answers: Mapping[str, object]
    consented: bool


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
        returning_days: int = DEFAULT_RETURNING_DAYS,
    ) -> None:
        self._storage = storage
        self._content = content
        self._returning_days = returning_days
        self._questions = content.questionnaire
        self._order = content.questionnaire.followup_order
        self._clinic = clinic_name
        self._place = clinic_address or clinic_name
        self._practitioners = sorted(practitioner_ids)
        self._tz = timezone

    @property
    def first_step(self) -> str:
        """The question a sent follow-up waits for."""
        return self._order[0]

    @property
    def _staff(self) -> Catalog:
        return self._content.staff

    def routes(self) -> Routes:
        """The buttons of scheduled messages, and text for a follow-up's note."""
        return Routes(
            buttons={
                Verb.ATTEND: self._attend_button,
                Verb.FOLLOWUP_ANSWER: self._followup_button,
                Verb.FOLLOWUP_SKIP: self._followup_button,
            },
            text=self._text,
        )

    async def _patient(self, who: Who) -> tuple[Catalog, Patient] | None:
        patient = await self._storage.patient_by_telegram_id(who.user_id)
        await came_back(self._storage, patient)
        return None if patient is None else (self._content.catalog(patient.language), patient)

    async def _attend_button(self, who: Who, action: Action) -> Outcome | None:
        found = await self._patient(who)
        return None if found is None else await self.attend(*found, action)

    async def _followup(self, who: Who) -> FollowupState | None:
        found = await self._storage.followup_state(who.user_id)
        if found is None:
            return None
        patient, followup, answers, consented = found
        await came_back(self._storage, patient)
        catalog = self._content.catalog(patient.language)
        return FollowupState(catalog, patient, followup, answers, consented)

    async def _followup_button(self, who: Who, action: Action) -> Outcome | None:
        state = await self._followup(who)
        return None if state is None else await self.followup_button(state, action)

    async def _text(self, who: Who, text: str) -> Outcome | None:
        state = await self._followup(who)
        return None if state is None else await self.open_followup_text(state, text)

    def _when(self, appointment: Appointment) -> dict[str, str]:
        local = appointment.starts_at.astimezone(self._tz)
        return {"date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H:%M")}

    def _notify(self, reply: Reply) -> list[Notification]:
        return [Notification(chat_id, reply) for chat_id in self._practitioners]

    # Composing ---------------------------------------------------------------------------

    async def compose(self, due: DueMessage) -> Reply:
        """The message for a due outbox row, in the patient's language."""
        catalog = self._content.catalog(due.patient.language)
        appointment = due.appointment
        when = self._when(appointment)
        kind = MessageKind(due.message.kind)
        if kind is MessageKind.INTAKE:
            if await self._storage.open_intake(due.patient.id):
                # Started already: a second invitation would only interrupt it.
                return Reply(catalog.text("appointments.invitation_in_progress", **when))
            last = await returning_from(self._storage, due.patient.id, self._returning_days)
            return rendering.choice(
                catalog,
                "appointments.invitation_returning" if last else "appointments.invitation",
                [
                    (
                        "appointments.invitation_button",
                        Action(Verb.APPOINTMENT_INTAKE, appointment.id),
                    )
                ],
                clinic=self._clinic,
                minutes=flow.minutes(self._questions, returning=last is not None),
                **when,
            )
        attend = _attend_buttons(appointment)
        if kind is MessageKind.MOVED:
            return self._moved(catalog, appointment)
        if kind is MessageKind.REMINDER:
            reminder = rendering.choice(
                catalog, "appointments.reminder", attend, place=self._place, **when
            )
            flags = await self._storage.unreviewed_red_flags(due.patient.id)
            return views.flagged_reminder(catalog, reminder, flags) if flags else reminder
        if not await self.consented(due.patient):
            # No health question without consent: the check-in goes on once they agree.
            ask = views.welcome(catalog, self._clinic)
            intro = catalog.text("followup.consent_first", date=when["date"])
            return Reply(f"{intro}\n\n{ask.html}", ask.keyboard)
        asked = await self._asked(due.message, due.patient, {})
        first = rendering.followup_reply(catalog, due.message.id, self._order[0], asked)
        intro = catalog.text("followup.intro", date=when["date"])
        return Reply(f"{intro}\n\n{first.html}", first.keyboard)

    def _moved(self, catalog: Catalog, appointment: Appointment) -> Reply:
        """The appointment's new time, asking again whether the patient can come."""
        return rendering.choice(
            catalog,
            "appointments.moved",
            _attend_buttons(appointment),
            clinic=self._clinic,
            **self._when(appointment),
        )

    async def consented(self, patient: Patient) -> bool:
        """Whether the patient's latest word on consent is yes."""
        consent = await self._storage.latest_consent(patient.id)
        return consent is not None and consent.given

    async def resume_after_consent(self, catalog: Catalog, patient: Patient) -> Reply | None:
        """The first question of a check-in that waited for the patient's consent, if one
        did (sent, nothing answered yet)."""
        followup = await self._storage.open_followup(patient.id)
        if followup is None or followup.step != self._order[0]:
            return None
        if await self._storage.followup_answers(followup.id):
            return None
        asked = await self._asked(followup, patient, {})
        return rendering.followup_reply(catalog, followup.id, followup.step, asked)

    def unreachable(self, due: DueMessage) -> list[Notification]:
        """The practitioners' notice that a patient blocked the bot."""
        text = self._staff.text(
            "practitioner.unreachable",
            patient=rendering.patient_name(self._staff, due.patient),
            date=self._when(due.appointment)["date"],
        )
        return self._notify(Reply(text, self._open(due.patient)))

    def _open(self, patient: Patient) -> Keyboard:
        return rendering.record_keyboard(self._staff, patient.telegram_user_id, None)

    # Answers -----------------------------------------------------------------------------

    async def _own_appointment(self, patient: Patient, appointment_id: int) -> Appointment | None:
        appointment = await self._storage.appointment(appointment_id)
        if appointment is None or appointment.patient_id != patient.id:
            return None
        return appointment

    async def attend(self, catalog: Catalog, patient: Patient, action: Action) -> Outcome | None:
        """'I'll be there' or 'I need to reschedule'; None if the button is not theirs."""
        appointment = await self._own_appointment(patient, action.appointment_id)
        if appointment is None or appointment.status is not AppointmentStatus.SCHEDULED:
            return None
        if action.question and action.question != time_stamp(appointment.starts_at):
            # A button of a message sent before the appointment moved: "I'll be there" would
            # answer for a time the patient did not choose. The new time, asked again.
            return Outcome(
                edit=Reply(catalog.text("appointments.answer_moved")),
                replies=[self._moved(catalog, appointment)],
            )
        rescheduling = action.code == "reschedule"
        await self._storage.set_attendance(
            appointment.id, Attendance.RESCHEDULE if rescheduling else Attendance.CONFIRMED
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
                patient=rendering.patient_name(self._staff, patient),
                id=str(appointment.id),
                **self._when(appointment),
            )
            outcome.notifications = self._notify(Reply(note, self._open(patient)))
        return outcome

    async def _asked(
        self, followup: ScheduledMessage, patient: Patient, answers: Mapping[str, object]
    ) -> tuple[str, ...]:
        """The questions this check-in asks, in order: the later ones only in a later
        follow-up, an activities question only when there are activities to rate again."""
        later = is_later(followup.offset_seconds)
        asked = []
        for q in self._questions.followup:
            if q.later and not later:
                continue
            if q.kind is Kind.ACTIVITIES and q.id not in answers:
                start = await activities_to_rate(
                    self._storage, self._questions, patient.telegram_user_id
                )
                if not start.items:
                    continue
            asked.append(q.id)
        return tuple(asked)

    async def _current(self, state: FollowupState, followup: ScheduledMessage) -> Reply:
        """The check-in's question waiting for an answer, as sent."""
        assert followup.step is not None
        asked = await self._asked(followup, state.patient, state.answers)
        value = state.answers.get(followup.step)
        return rendering.followup_reply(state.catalog, followup.id, followup.step, asked, value)

    async def open_followup_text(self, state: FollowupState, text: str) -> Outcome | None:
        """A text message answers the follow-up note, or names an activity, if one is
        waiting for it."""
        followup = state.followup
        if followup is None or followup.step is None or not state.consented:
            return None
        kind = self._questions.question(followup.step).kind
        if kind is Kind.TEXT:
            return await self._note(state, followup, text)
        if (kind is not Kind.ACTIVITIES and kind not in TYPED_KINDS) or not text.strip():
            return None
        if followup.step not in self._order or await self._elsewhere(state.patient):
            return None
        if kind is Kind.ACTIVITIES:
            return await self._activity_text(state, followup, followup.step, text.strip())
        return await self._typed(state, followup, text)

    async def _elsewhere(self, patient: Patient) -> bool:
        """Whether typed text is for something else than a check-in's buttons: an intake in
        progress, or a conversation with the clinic (never taken for a warning sign's
        answer). A check-in stays open until it is answered, so it may be an old one."""
        if await self._storage.open_thread_of(patient.telegram_user_id) is not None:
            return True
        return await self._storage.open_intake(patient.id) is not None

    async def _note(self, state: FollowupState, followup: ScheduledMessage, text: str) -> Outcome:
        """The check-in's note, typed."""
        assert followup.step is not None
        catalog = state.catalog
        note = text.strip()
        if len(note) > MAX_TEXT_ANSWER:
            # Kept whole, it could make every later view of the record too long to send.
            return Outcome(
                replies=[Reply(catalog.text("flow.text_too_long", limit=MAX_TEXT_ANSWER))]
            )
        return await self._answer(state, followup, followup.step, note or None)

    async def _typed(
        self, state: FollowupState, followup: ScheduledMessage, text: str
    ) -> Outcome | None:
        """Text where the check-in offers buttons: the answer when it is unambiguous (said
        back), else the buttons again."""
        assert followup.step is not None
        q = self._questions.question(followup.step)
        typed = typed_answer(state.catalog, q, text)
        if typed.code is None:
            return Outcome(
                replies=[hint(state.catalog, typed), await self._current(state, followup)]
            )
        value = q.value_of(typed.code)
        outcome = await self._answer(state, followup, q.id, value)
        outcome.edit = None  # the message with the buttons stays as it is
        outcome.replies.insert(0, said_back(state.catalog, q.id, value))
        return outcome

    async def followup_button(self, state: FollowupState, action: Action) -> Outcome | None:
        """A follow-up answer button; None if it is stale or not theirs."""
        catalog, followup = state.catalog, state.followup
        if followup is None or followup.id != action.outbox_id or followup.step is None:
            return None
        if not state.consented:
            # Nothing is stored without consent (a button of a check-in sent before it
            # was withdrawn): ask again.
            return Outcome(replies=[views.welcome(catalog, self._clinic)])
        if action.question in self._questions.retired_ids and followup.step in self._order:
            # A button of a question no longer asked (sent before an upgrade): the check-in
            # goes on with the question that replaced it.
            stale = catalog.text("errors.stale")
            return Outcome(
                toast=stale, replies=[Reply(stale), await self._current(state, followup)]
            )
        if followup.step != action.question:
            return None
        q = self._questions.question(action.question)
        if q.kind is Kind.ACTIVITIES and action.verb is Verb.FOLLOWUP_ANSWER:
            return await self._activity_button(state, followup, q.id, action.code)
        if action.verb is Verb.FOLLOWUP_SKIP and q.optional:
            return await self._answer(state, followup, q.id, None)
        if action.verb is Verb.FOLLOWUP_ANSWER and action.code in q.codes:
            return await self._answer(state, followup, q.id, q.value_of(action.code))
        return None

    async def _answer(
        self, state: FollowupState, followup: ScheduledMessage, question_id: str, value: object
    ) -> Outcome:
        catalog, earlier, message_id = state.catalog, state.answers, followup.id
        answers = {**earlier, question_id: value}
        asked = await self._asked(followup, state.patient, answers)
        position = asked.index(question_id)
        step = asked[position + 1] if position + 1 < len(asked) else DONE
        await self._storage.save_followup_answer(message_id, question_id, value, step)
        if step != DONE and self._questions.question(step).kind is Kind.ACTIVITIES:
            # Opened with the activities of the visit before, quoted back (stored at once).
            start = await activities_to_rate(
                self._storage, self._questions, state.patient.telegram_user_id
            )
            answers[step] = start.to_value()
            await self._storage.save_followup_answer(message_id, step, answers[step], step)
        outcome = Outcome(edit=rendering.answered(catalog, question_id, value))
        if needs_attention(self._questions, question_id, value):
            outcome.replies += advice(catalog, question_id, earlier)
            outcome.notifications = await self._alert(state.patient, followup, question_id, value)
        if step == DONE:
            key = closing_key(self._questions, answers, followup.offset_seconds)
            outcome.replies.append(Reply(catalog.text(key)))
            outcome.replies += await self._progress(state, answers)
        else:
            outcome.replies.append(
                rendering.followup_reply(catalog, message_id, step, asked, answers.get(step))
            )
        return outcome

    async def _progress(self, state: FollowupState, answers: Mapping[str, object]) -> list[Reply]:
        """The patient's own progress after a check-in that gave a score, in kind words;
        nothing after one that needed attention (its advice comes first and alone)."""
        scored = set(self._questions.scored)
        if escalated(self._questions, answers) or not any(
            answers.get(q) is not None for q in scored
        ):
            return []
        scores = await self._storage.scores(
            self._questions.scored, telegram_user_id=state.patient.telegram_user_id
        )
        courses = outcome_views.courses_of(self._questions, scores)
        progress = outcome_views.patient_progress(state.catalog, courses, self._tz)
        return [] if progress is None else [progress]

    async def _activity_button(
        self, state: FollowupState, followup: ScheduledMessage, question_id: str, code: str
    ) -> Outcome:
        """A rating, drop or Done on the check-in's activities question, stored at once."""
        before = parse(state.answers.get(question_id)) or Activities()
        pressed = press(before, code)
        if pressed is None:
            return Outcome(toast=state.catalog.text("errors.already_answered"))
        edit = rendering.activity_step(state.catalog, question_id, before, code)
        value = None if pressed.answer is None else pressed.answer.to_value()
        if pressed.finished:
            outcome = await self._answer(state, followup, question_id, value)
            outcome.edit = edit
            return outcome
        await self._storage.save_followup_answer(followup.id, question_id, value, question_id)
        answers = {**state.answers, question_id: value}
        asked = await self._asked(followup, state.patient, answers)
        reply = rendering.followup_reply(state.catalog, followup.id, question_id, asked, value)
        return Outcome(edit=edit, replies=[reply])

    async def _activity_text(
        self, state: FollowupState, followup: ScheduledMessage, question_id: str, typed: str
    ) -> Outcome:
        """An activity typed for the check-in's activities question, or why it is not taken."""
        before = parse(state.answers.get(question_id)) or Activities()
        added = rendering.add_activity(state.catalog, before, typed)
        if isinstance(added, Reply):
            return Outcome(replies=[added, await self._current(state, followup)])
        value = added.to_value()
        await self._storage.save_followup_answer(followup.id, question_id, value, question_id)
        answers = {**state.answers, question_id: value}
        asked = await self._asked(followup, state.patient, answers)
        reply = rendering.followup_reply(state.catalog, followup.id, question_id, asked, value)
        return Outcome(replies=[reply])

    async def _alert(
        self, patient: Patient, followup: ScheduledMessage, question_id: str, value: object
    ) -> list[Notification]:
        appointment = await self._storage.appointment(followup.appointment_id)
        date = self._when(appointment)["date"] if appointment else "-"
        staff = self._staff
        heading = staff.text(
            "practitioner.followup_alert", patient=rendering.patient_name(staff, patient), date=date
        )
        line = rendering.answer_lines(
            staff, "practitioner.line", {question_id: value}, [question_id]
        )
        return self._notify(Reply("\n".join([heading, *line]), self._open(patient)))


def time_stamp(starts_at: datetime) -> str:
    """A short mark of an appointment's time (minutes since 1970, hex), carried by its
    attendance buttons so that a press can tell whether the time changed since."""
    return f"{int(starts_at.timestamp()) // 60:x}"


def _attend_buttons(appointment: Appointment) -> list[tuple[str, Action]]:
    stamp = time_stamp(appointment.starts_at)
    return [
        ("appointments.attend_button", Action(Verb.ATTEND, appointment.id, stamp, "yes")),
        (
            "appointments.reschedule_button",
            Action(Verb.ATTEND, appointment.id, stamp, "reschedule"),
        ),
    ]
