"""The intake conversation: turns a patient's actions into stored answers and replies.

Plain domain code: it knows storage and content, not Telegram. Every answer is written
before the reply to it is produced, and the conversation position lives in the database.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Catalog, Content
from bot.intake import returning, views
from bot.intake.screening import cautions, is_red_flag, notice
from bot.intake.typed import TYPED_KINDS, hint, said_back, typed_answer
from bot.outcomes import views as outcome_views
from bot.outcomes.stored import activities_to_rate
from bot.questionnaire import MAX_TEXT_ANSWER, Group, Kind
from bot.scores.activities import Activities, parse, press
from bot.scores.measures import Course
from bot.vocabulary import flow, rendering
from bot.vocabulary.actions import Action, Subject, Verb
from bot.vocabulary.flow import Block, Checks, Decision
from bot.vocabulary.links import LINK_PREFIX
from bot.vocabulary.outgoing import Notification, Outcome, Reply
from bot.vocabulary.people import Who, came_back
from bot.vocabulary.routes import Command, Routes
from storage import Intake, Patient, Storage

# A check-in that waited for consent, resumed once the patient agrees (scheduling's).
START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what Telegram allows in a deep link
ResumeAfterConsent = Callable[[Catalog, Patient], Awaitable[Reply | None]]


class IntakeService:
    """One instance serves every patient; all state is in `storage`."""

    def __init__(
        self,
        storage: Storage,
        content: Content,
        *,
        clinic_name: str,
        practitioner_ids: Collection[int],
        timezone: ZoneInfo,
        resume_after_consent: ResumeAfterConsent | None = None,
        returning_days: int = returning.DEFAULT_RETURNING_DAYS,
    ) -> None:
        self._storage = storage
        self._returning_days = returning_days
        self._resume_after_consent = resume_after_consent
        self._content = content
        self._questions = content.questionnaire
        self._clinic = clinic_name
        self._practitioners = sorted(practitioner_ids)
        self._tz = timezone

    # Helpers --------------------------------------------------------------------------

    def catalog_for(self, who: Who) -> Catalog:
        """The catalog in the user's language (as chosen, else Telegram's, else the
        clinic's default)."""
        return self._content.catalog(who.language_code)

    @property
    def staff_catalog(self) -> Catalog:
        """Practitioners read the clinic's default language, whatever the patient's."""
        return self._content.staff

    async def patient(self, who: Who) -> Patient:
        """The patient behind `who`, stored now if they are new."""
        language = self._content.language_for(who.language_code)
        return await self._storage.ensure_patient(who.user_id, who.chat_id, language)

    async def _known(self, who: Who) -> tuple[Patient | None, Intake | None]:
        """The stored patient (never created here) and their intake in progress."""
        patient, intake, _ = await self._state(who)
        return patient, intake

    async def _state(self, who: Who) -> tuple[Patient | None, Intake | None, dict[str, object]]:
        """The stored patient, their intake in progress and its answers: one read."""
        patient, intake, answers = await self._storage.patient_state(who.user_id)
        await came_back(self._storage, patient)
        if intake is not None:
            step = flow.current_step(self._questions, intake.step, answers, _checks(intake))
            intake = replace(intake, step=step)
        return patient, intake, answers

    def _catalog(self, who: Who, patient: Patient | None) -> Catalog:
        """The catalog in the language the patient chose (else Telegram's)."""
        return self._content.catalog(patient.language if patient else who.language_code)

    async def known_patient(self, who: Who) -> Patient | None:
        """The stored patient behind `who` (never created here)."""
        patient, _ = await self._known(who)
        return patient

    def consent_version(self, catalog: Catalog) -> str:
        """Which consent text a decision was given to (a hash of its words)."""
        return hashlib.sha256(catalog.raw("consent.welcome").encode()).hexdigest()[:12]

    async def _consented(self, patient: Patient, catalog: Catalog) -> bool:
        consent = await self._storage.latest_consent(patient.id)
        return bool(
            consent and consent.given and consent.text_version == self.consent_version(catalog)
        )

    async def _welcome(self, catalog: Catalog, patient: Patient) -> Reply:
        earlier = await returning.returning_from(self._storage, patient.id, self._returning_days)
        return views.welcome(catalog, self._clinic, returning=earlier is not None)

    async def prompt(self, catalog: Catalog, intake: Intake) -> Reply:
        """The message for the intake's current step."""
        answers = await self._storage.answers(intake.id)
        step = flow.current_step(self._questions, intake.step, answers, _checks(intake))
        intake, step = await self._past_empty(intake, step, answers)
        return await self._ask(catalog, intake, step, answers)

    async def _past_empty(
        self, intake: Intake, step: str, answers: dict[str, object]
    ) -> tuple[Intake, str]:
        """Past a returning intake's block step that would show nothing (the earlier intake
        erased since, or none of its answers valid now): its questions are asked one by
        one instead. The intake and the step it is at."""
        block = flow.check_block(step)
        while block in (Block.HISTORY, Block.SCREENING) and intake.checks is not None:
            if block in intake.checks:
                break
            earlier_id = intake.returning_from
            earlier = await self._storage.answers(earlier_id) if earlier_id else {}
            if returning.carried_forward(self._questions, block, earlier, answers):
                break
            checks = {**intake.checks, block: Decision.NOTHING}
            step = flow.next_step(self._questions, step, answers, checks)
            await self._storage.decide(intake.id, block, Decision.NOTHING, next_step=step)
            intake = replace(intake, checks=checks, step=step)
            block = flow.check_block(step)
        return intake, step

    async def _ask(
        self, catalog: Catalog, intake: Intake, step: str, answers: Mapping[str, object]
    ) -> Reply:
        """The message of one step: a question, a returning intake's block, the summary."""
        checks = _checks(intake)
        if step == flow.SUMMARY:
            note_here = checks is not None and self._note_question() is not None
            return views.summary(catalog, intake.id, answers, note_here=note_here)
        block = flow.check_block(step)
        if block is None or checks is None:
            return views.question_reply(
                catalog, intake.id, step, answers, returning=checks is not None
            )
        changing = checks.get(block) == Decision.CHANGING
        date = ""
        if block is not Block.RED_FLAGS and not changing:
            earlier_id = intake.returning_from
            earlier = await self._storage.intake(earlier_id) if earlier_id else None
            if earlier is not None:
                date = rendering.local_time(earlier.completed_at, self._tz)[:10]
                shown = await self._storage.answers(earlier.id)
                answers = returning.carried_forward(self._questions, block, shown, {})
        return returning.check_reply(
            catalog, intake.id, block, answers, date=date, changing=changing
        )

    async def _following(
        self,
        catalog: Catalog,
        patient: Patient,
        intake: Intake,
        step: str,
        answers: dict[str, object],
    ) -> list[Reply]:
        """What the patient is sent once the intake has moved on to `step`."""
        intake, step = await self._past_empty(intake, step, answers)
        await self._enter(patient, intake, step, answers)
        replies = []
        if step == flow.SUMMARY and cautions(self._questions, answers):
            replies.append(Reply(catalog.text("safety.cautions")))
        replies.append(await self._ask(catalog, intake, step, answers))
        return replies

    async def _begin(self, catalog: Catalog, patient: Patient, payload: str | None) -> Outcome:
        """Open a new intake at its first step (consent is on record), for the appointment
        whose link the payload is, if it is one: the short one when the patient's last
        intake is recent."""
        earlier = await returning.returning_from(self._storage, patient.id, self._returning_days)
        intake = await self._storage.start_intake(
            patient.id,
            step=flow.first_question(self._questions, {} if earlier else None),
            content_version=self._content.version,
            start_payload=payload,
            appointment_id=await self._own_appointment(patient, payload),
            returning_from=earlier.id if earlier else None,
        )
        return Outcome(replies=await self._following(catalog, patient, intake, intake.step, {}))

    async def _own_appointment(self, patient: Patient, payload: str | None) -> int | None:
        """The appointment whose personal link `payload` is, if it is this patient's: an
        intake only ever points at its own patient's appointment."""
        if not payload or not payload.startswith(LINK_PREFIX):
            return None
        appointment = await self._storage.appointment_by_token(payload)
        return appointment.id if appointment and appointment.patient_id == patient.id else None

    async def _link(
        self, catalog: Catalog, patient: Patient, payload: str | None
    ) -> tuple[str | None, list[Reply]]:
        """Attach the appointment of a personal deep link to the patient who opened it.

        Returns the payload to keep (None for a link that is unknown or someone else's)
        and what to tell the patient.
        """
        if not payload or not payload.startswith(LINK_PREFIX):
            return payload, []
        appointment = await self._storage.claim_link(payload, patient.id)
        if appointment is None:
            # Unknown, or another account's: nothing about it is told.
            return None, [Reply(catalog.text("appointments.unknown_link"))]
        local = appointment.starts_at.astimezone(self._tz)
        linked = catalog.text(
            "appointments.linked", date=f"{local:%Y-%m-%d}", time=f"{local:%H:%M}"
        )
        return payload, [Reply(linked)]

    # Commands -------------------------------------------------------------------------

    async def start(self, who: Who, payload: str | None = None) -> Outcome:
        """/start, optionally with a deep-link payload."""
        catalog = self.catalog_for(who)
        patient = await self.patient(who)
        payload, notes = await self._link(catalog, patient, payload)
        outcome = await self._start(catalog, patient, payload)
        outcome.replies[:0] = notes
        return outcome

    async def _start(self, catalog: Catalog, patient: Patient, payload: str | None) -> Outcome:
        intake = await self._storage.open_intake(patient.id)
        if intake is not None:
            resume = rendering.choice(
                catalog,
                "flow.resume",
                [
                    ("flow.resume_button", Action(Verb.RESUME, intake.id, "", "go")),
                    ("flow.restart_button", Action(Verb.RESUME, intake.id, "", "again")),
                ],
            )
            return Outcome(replies=[resume])
        if not await self._consented(patient, catalog):
            # Only the payload waits for the answer; the intake is created on consent.
            await self._storage.set_pending_payload(patient.id, payload)
            return Outcome(replies=[await self._welcome(catalog, patient)])
        done = await self._storage.latest_completed_intake(patient.id)
        if done is not None and payload is None:
            offer = rendering.choice(
                catalog,
                "flow.already_done",
                [("flow.new_intake_button", Action(Verb.NEW))],
                date=rendering.local_time(done.completed_at, self._tz)[:10],
            )
            return Outcome(replies=[offer])
        return await self._begin(catalog, patient, payload)

    async def cancel(self, who: Who) -> Outcome:
        """/cancel: pause the current step; the answers so far stay stored."""
        catalog = self.catalog_for(who)
        _, intake = await self._known(who)
        if intake is None:
            return Outcome(replies=[Reply(catalog.text("flow.nothing_to_cancel"))])
        await self._storage.set_paused(intake.id, True)
        return Outcome(replies=[Reply(catalog.text("flow.paused"))])

    async def guide(self, who: Who) -> Outcome:
        """/guide: the guide for the latest completed intake."""
        catalog = self.catalog_for(who)
        patient = await self._storage.patient_by_telegram_id(who.user_id)
        intake = await self._storage.latest_completed_intake(patient.id) if patient else None
        if intake is None:
            return Outcome(replies=[Reply(catalog.text("help.no_guide"))])
        answers = await self._storage.answers(intake.id)
        return Outcome(replies=views.guide_replies(catalog, answers, urgent=intake.urgent))

    async def help(self, who: Who) -> Outcome:
        """/help."""
        catalog = self.catalog_for(who)
        replies = [Reply(catalog.text("help.text", clinic=self._clinic))]
        if who.user_id in self._practitioners:
            replies.append(Reply(self.staff_catalog.text("practitioner.help")))
        return Outcome(replies=replies)

    def slow_down(self, who: Who) -> Outcome:
        """Told once when a chat sends faster than the bot reads (bot.edge.updates)."""
        return Outcome(replies=[Reply(self.catalog_for(who).text("errors.slow_down"))])

    def unknown_command(self, who: Who) -> Outcome:
        """A command the bot does not have."""
        return Outcome(replies=[Reply(self.catalog_for(who).text("help.unknown_command"))])

    # Free input -----------------------------------------------------------------------

    async def text(self, who: Who, text: str) -> Outcome:
        """A text message: the answer to a text question, or a nudge back to the buttons."""
        patient, intake, answers = await self._state(who)
        catalog = self._catalog(who, patient)
        if patient is None or intake is None:
            return Outcome(replies=[Reply(catalog.text("flow.idle"))])
        if intake.paused:
            return Outcome(replies=[Reply(catalog.text("flow.paused_text"))])
        answer = text.strip()
        if intake.step == flow.SUMMARY and _checks(intake) is not None and answer:
            return await self._summary_note(catalog, intake, answers, answer)
        asked = self._questions.asks(intake.step)
        kind = self._questions.question(intake.step).kind if asked else None
        if kind is Kind.ACTIVITIES and answer:
            return await self._activity_text(catalog, intake, answers, intake.step, answer)
        if kind in TYPED_KINDS:
            return await self._typed(catalog, patient, intake, answers, answer)
        if kind is not Kind.TEXT:
            nudge = Reply(catalog.text("flow.use_buttons"))
            return Outcome(replies=[nudge, await self.prompt(catalog, intake)])
        if not answer:
            return Outcome(replies=[await self.prompt(catalog, intake)])
        if len(answer) > MAX_TEXT_ANSWER:
            limit = Reply(catalog.text("flow.text_too_long", limit=MAX_TEXT_ANSWER))
            return Outcome(replies=[limit])
        return await self._answer(
            catalog, patient, intake, answers, intake.step, answer, edit=False
        )

    async def _typed(
        self,
        catalog: Catalog,
        patient: Patient,
        intake: Intake,
        answers: dict[str, object],
        text: str,
    ) -> Outcome:
        """Text where buttons were offered: the answer when it is unambiguous (said back to
        the patient), else the buttons again with a hint."""
        q = self._questions.question(intake.step)
        typed = typed_answer(catalog, q, text)
        if typed.code is None:
            return Outcome(replies=[hint(catalog, typed), await self.prompt(catalog, intake)])
        value = q.value_of(typed.code)
        outcome = await self._answer(catalog, patient, intake, answers, q.id, value, edit=False)
        outcome.replies.insert(0, said_back(catalog, q.id, value))
        return outcome

    async def _summary_note(
        self, catalog: Catalog, intake: Intake, answers: dict[str, object], note: str
    ) -> Outcome:
        """A note typed at a returning intake's summary: the notes answer (an earlier one
        is kept in the record's history), then the summary again."""
        qid = self._note_question()
        if qid is None:
            nudge = Reply(catalog.text("flow.use_buttons"))
            return Outcome(replies=[nudge, await self.prompt(catalog, intake)])
        if len(note) > MAX_TEXT_ANSWER:
            limit = Reply(catalog.text("flow.text_too_long", limit=MAX_TEXT_ANSWER))
            return Outcome(replies=[limit])
        if answers.get(qid):
            await self._storage.revise_answer(intake.id, qid, note, next_step=flow.SUMMARY)
        else:
            await self._storage.save_answer(intake.id, qid, note, next_step=flow.SUMMARY)
        answers[qid] = note
        saved = Reply(catalog.text("summary.note_saved"))
        return Outcome(replies=[saved, await self._ask(catalog, intake, flow.SUMMARY, answers)])

    def _note_question(self) -> str | None:
        """The notes question a returning intake takes at its summary (a text one), if any."""
        notes = [q for q in self._questions.intake if q.group is Group.NOTES]
        return notes[0].id if notes and notes[0].kind is Kind.TEXT else None

    async def awaits_text(self, patient: Patient) -> bool:
        """Whether the patient's intake in progress is waiting for a typed answer (what they
        type next is that answer, not a message to the clinic)."""
        _, intake, answers = await self._storage.patient_state(patient.telegram_user_id)
        if intake is None or intake.paused:
            return False
        step = flow.current_step(self._questions, intake.step, answers, _checks(intake))
        if step == flow.SUMMARY:  # a returning intake's note may be typed there
            return _checks(intake) is not None and self._note_question() is not None
        if not self._questions.asks(step):
            return False
        kind = self._questions.question(step).kind
        if kind is Kind.ACTIVITIES:
            # Only while an activity can be named: a rating is given by button, and what
            # the patient types then is for the clinic.
            answer = parse(answers.get(step)) or Activities()
            return answer.waiting is None and not answer.full
        return kind is Kind.TEXT

    async def unexpected(self, who: Who, *, edited: bool) -> Outcome:
        """A sticker, photo, edited message or anything else the bot cannot use."""
        catalog = self.catalog_for(who)
        key = "errors.edited" if edited else "errors.not_text"
        outcome = Outcome(replies=[Reply(catalog.text(key))])
        _, intake = await self._known(who)
        if intake is not None and not intake.paused:
            outcome.replies.append(await self.prompt(catalog, intake))
        else:
            outcome.replies.append(Reply(catalog.text("flow.idle")))
        return outcome

    # Buttons --------------------------------------------------------------------------

    def routes(self) -> Routes:
        """The intake's commands and buttons (the router gives it any text that no other
        feature took, and every button no feature claims)."""
        intake_verbs = (
            Verb.CONSENT,
            Verb.NEW,
            Verb.RESUME,
            Verb.SUMMARY,
            Verb.CHANGE,
            Verb.CHECK,
            Verb.ANSWER,
            Verb.SKIP,
            Verb.TOGGLE,
            Verb.DONE,
            Verb.APPOINTMENT_INTAKE,
        )
        return Routes(
            commands={
                "start": self._start_command,
                "guide": self._command(self.guide),
                "help": self._command(self.help),
                "cancel": self._command(self.cancel),
            },
            buttons=dict.fromkeys(intake_verbs, self.button),
        )

    @staticmethod
    def _command(call: Callable[[Who], Awaitable[Outcome]]) -> Command:
        async def command(who: Who, _: list[str]) -> Outcome:
            return await call(who)

        return command

    async def _start_command(self, who: Who, args: list[str]) -> Outcome:
        payload = args[0] if len(args) == 1 and START_PAYLOAD.match(args[0]) else None
        return await self.start(who, payload)

    async def button(self, who: Who, action: Action) -> Outcome:
        """An intake button. Buttons from old messages are answered safely."""
        patient, intake, answers = await self._state(who)
        catalog = self._catalog(who, patient)
        if patient is None:
            return await self._stale(catalog, intake)
        if action.verb is Verb.APPOINTMENT_INTAKE:
            appointment = await self._storage.appointment(action.appointment_id)
            if appointment is None or appointment.patient_id != patient.id:
                return await self._stale(catalog, intake)
            return await self._start(catalog, patient, appointment.link_token)
        if action.verb is Verb.CONSENT and intake is None:
            return await self._consent(who, catalog, patient, given=action.code == "yes")
        if action.verb is Verb.NEW and intake is None:
            return await self._begin(catalog, patient, None)
        if action.verb.subject is not Subject.INTAKE:  # consent or new while an intake is open
            return await self._stale(catalog, intake)
        if intake is None or intake.id != action.intake_id:
            if action.verb is Verb.SUMMARY and action.code == "ok":
                again = await self._guide_again(catalog, patient, action.intake_id)
                if again is not None:
                    return again
            return await self._stale(catalog, intake)
        if action.verb is Verb.RESUME:
            if action.code == "again":
                return await self._begin(catalog, patient, intake.start_payload)
            await self._storage.set_paused(intake.id, False)
            return Outcome(replies=[await self.prompt(catalog, intake)])
        if action.verb is Verb.SUMMARY and intake.step == flow.SUMMARY:
            if action.code == "again":
                return await self._begin(catalog, patient, intake.start_payload)
            return await self._complete(catalog, patient, intake, answers)
        if action.verb is Verb.CHANGE and (intake.step == flow.SUMMARY or _changing(intake)):
            return await self._change(catalog, patient, intake, answers, action)
        if action.verb is Verb.CHECK:
            return await self._check(catalog, patient, intake, answers, action)
        if not self._questions.asks(action.question):
            return await self._stale(catalog, intake)
        if action.question != intake.step:
            if action.question in answers:
                # A second tap on an answered question (a double tap): nothing to redo.
                return Outcome(toast=catalog.text("errors.already_answered"))
            return await self._stale(catalog, intake)
        return await self._question_button(catalog, patient, intake, action, answers)

    async def stale(self, who: Who) -> Outcome:
        """A button that is not (or no longer) the patient's: where they are now."""
        patient, intake = await self._known(who)
        return await self._stale(self._catalog(who, patient), intake)

    async def _question_button(
        self,
        catalog: Catalog,
        patient: Patient,
        intake: Intake,
        action: Action,
        answers: dict[str, object],
    ) -> Outcome:
        q = self._questions.question(action.question)
        if q.kind is Kind.ACTIVITIES and action.verb is Verb.ANSWER:
            return await self._activity_button(catalog, patient, intake, answers, q.id, action)
        if action.verb is Verb.ANSWER and action.code in q.codes:
            value = q.value_of(action.code)
            return await self._answer(catalog, patient, intake, answers, q.id, value, edit=True)
        if action.verb is Verb.SKIP and q.optional:
            return await self._answer(catalog, patient, intake, answers, q.id, None, edit=True)
        if action.verb is Verb.TOGGLE and q.kind is Kind.MULTI and action.code in q.codes:
            return await self._toggle(catalog, intake, answers, q.id, action.code)
        if action.verb is Verb.DONE and q.kind is Kind.MULTI:
            return await self._finish_multi(catalog, patient, intake, answers, q.id)
        return await self._stale(catalog, intake)

    async def _stale(self, catalog: Catalog, intake: Intake | None) -> Outcome:
        toast = catalog.text("errors.stale")
        if intake is None:
            return Outcome(toast=toast, replies=[Reply(catalog.text("flow.idle"))])
        prompt = await self.prompt(catalog, intake)
        return Outcome(toast=toast, replies=[Reply(toast), prompt])

    async def _consent(
        self, who: Who, catalog: Catalog, patient: Patient, *, given: bool
    ) -> Outcome:
        label = catalog.text("consent.agree_button" if given else "consent.decline_button")
        chosen = catalog.text("flow.chosen", answer=label)
        last = await returning.returning_from(self._storage, patient.id, self._returning_days)
        welcome = views.welcome(catalog, self._clinic, returning=last is not None)
        edit = Reply(f"{welcome.html}\n\n{chosen}")
        if not given and await self._storage.has_patient_data(patient.id):
            # Withdrawing consent erases what /delete erases, after the same question; the
            # refusal is recorded once they confirm.
            confirm = views.erase_confirmation(catalog, views.WITHDRAW)
            return Outcome(edit=edit, replies=[confirm])
        earlier = await self._storage.latest_consent(patient.id)
        version = self.consent_version(catalog)
        if not given:
            # Refused before anything was stored: nothing but the refusal is kept.
            await self._storage.record_consent(patient.id, False, version)
            await self._storage.forget_patient_data(patient.id)
            await self._storage.audit(patient.telegram_user_id, "consent refused", None)
            return Outcome(edit=edit, replies=[Reply(catalog.text("consent.declined"))])
        # A check-in that asked for consent (sent while there was none) goes on; a patient
        # agreeing to a new consent text came for an intake.
        had_consented = earlier is not None and earlier.given
        waiting = None
        if not had_consented and self._resume_after_consent is not None:
            waiting = await self._resume_after_consent(catalog, patient)
        agreed = Reply(catalog.text("consent.agreed"))
        if waiting is not None:
            # They agreed to answer a check-in: it goes on, no intake is started.
            await self._storage.agree(patient.id, version, who.first_name, who.username, begin=None)
            return Outcome(edit=edit, replies=[agreed, waiting])
        payload = patient.pending_payload
        appointment_id = await self._own_appointment(patient, payload)
        begin = (
            flow.first_question(self._questions, {} if last else None),
            self._content.version,
            payload,
            appointment_id,
            last.id if last else None,
        )
        intake = await self._storage.agree(
            patient.id, version, who.first_name, who.username, begin=begin
        )
        assert intake is not None
        first = await self._following(catalog, patient, intake, intake.step, {})
        return Outcome(edit=edit, replies=[agreed, *first])

    async def _answer(
        self,
        catalog: Catalog,
        patient: Patient,
        intake: Intake,
        answers: dict[str, object],
        question_id: str,
        value: object,
        *,
        edit: bool,
    ) -> Outcome:
        answers[question_id] = value
        step = flow.next_step(self._questions, question_id, answers, _checks(intake))
        flagged = is_red_flag(self._questions, question_id, value)
        await self._storage.save_answer(
            intake.id, question_id, value, next_step=step, red_flag=question_id if flagged else None
        )
        # A choice changed from the summary may close a question asked after it.
        removed = await self._drop_closed(catalog, intake, answers)
        outcome = Outcome(edit=rendering.answered(catalog, question_id, value) if edit else None)
        outcome.replies += removed
        if flagged:
            outcome.replies.append(views.red_flag_advice(catalog, question_id))
            outcome.notifications += self._red_flag_alerts(patient, intake, question_id)
        elif notice(self._questions, question_id, value):
            outcome.replies.append(Reply(catalog.text(f"safety.notices.{question_id}")))
        outcome.replies += await self._following(catalog, patient, intake, step, answers)
        return outcome

    def _red_flag_alerts(
        self, patient: Patient, intake: Intake, question_id: str | None
    ) -> list[Notification]:
        alert = views.red_flag_alert(self.staff_catalog, patient, intake.id, question_id)
        return [Notification(chat_id, alert) for chat_id in self._practitioners]

    async def _toggle(
        self,
        catalog: Catalog,
        intake: Intake,
        answers: dict[str, object],
        question_id: str,
        code: str,
    ) -> Outcome:
        current = answers.get(question_id)
        chosen = [c for c in current if isinstance(c, str)] if isinstance(current, list) else []
        chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
        ordered = [c for c in self._questions.question(question_id).codes if c in chosen]
        await self._storage.save_answer(intake.id, question_id, ordered, next_step=question_id)
        answers[question_id] = ordered
        return Outcome(edit=await self._ask(catalog, intake, question_id, answers))

    async def _finish_multi(
        self,
        catalog: Catalog,
        patient: Patient,
        intake: Intake,
        answers: dict[str, object],
        question_id: str,
    ) -> Outcome:
        chosen = answers.get(question_id)
        if not isinstance(chosen, list) or not chosen:
            return Outcome(toast=catalog.text("flow.pick_one_first"))
        removed = await self._drop_closed(catalog, intake, answers)
        step = flow.next_step(self._questions, question_id, answers, _checks(intake))
        await self._storage.set_step(intake.id, step)
        asked = await self._following(catalog, patient, intake, step, answers)
        return Outcome(
            edit=rendering.answered(catalog, question_id, chosen), replies=[*removed, *asked]
        )

    async def _change(
        self,
        catalog: Catalog,
        patient: Patient,
        intake: Intake,
        answers: dict[str, object],
        action: Action,
    ) -> Outcome:
        """From the summary: which answer to change, back to the summary, or that one
        question asked again (its old answer kept for the record); answering it leads back
        to the summary, through any question it newly opens. From a returning intake's
        block being changed: one of its answers, asked again, then the block's list."""
        qid = action.question
        block = flow.check_block(intake.step)
        if not qid:
            if block is not None:  # a block's list has no "which?" and no way back
                return await self._stale(catalog, intake)
            if action.code == "back":
                return Outcome(
                    edit=Reply(catalog.text("summary.change_which")),
                    replies=[await self._ask(catalog, intake, flow.SUMMARY, answers)],
                )
            return Outcome(replies=[views.change_choice(catalog, intake.id, answers)])
        if not self._questions.asks(qid) or qid not in answers:
            return await self._stale(catalog, intake)
        if block is not None and flow.block_of(self._questions.question(qid)) is not block:
            return await self._stale(catalog, intake)
        q = self._questions.question(qid)
        was = rendering.answer_label(catalog, qid, answers[qid])
        # An activities answer is given afresh, from the activities of the visit before.
        fresh = q.kind is Kind.ACTIVITIES
        await self._storage.change_answer(intake.id, qid, clear=fresh)
        if fresh:
            del answers[qid]
            await self._enter(patient, intake, qid, answers)
        asked = await self._ask(catalog, intake, qid, answers)
        return Outcome(
            edit=Reply(catalog.text("flow.chosen", answer=catalog.short(qid))),
            replies=[Reply(catalog.text("summary.changing", answer=was)), asked],
        )

    async def _check(
        self,
        catalog: Catalog,
        patient: Patient,
        intake: Intake,
        answers: dict[str, object],
        action: Action,
    ) -> Outcome:
        """A returning intake's block step answered: the block's earlier answers carried
        forward (confirmed, or to be gone through), every red flag answered no at once, or
        each red flag to be asked; stored in one transaction, then the next step."""
        checks = _checks(intake)
        try:
            block, decision = Block(action.question), Decision(action.code)
        except ValueError:
            return await self._stale(catalog, intake)
        if checks is None or intake.step != flow.CHECK_STEPS[block]:
            if checks is not None and flow.settled(checks, block):
                return Outcome(toast=catalog.text("errors.already_answered"))
            return await self._stale(catalog, intake)
        now_changing = checks.get(block) == Decision.CHANGING
        allowed = (
            {Decision.NONE, Decision.SOME}
            if block is Block.RED_FLAGS
            else ({Decision.CHANGED} if now_changing else {Decision.SAME, Decision.CHANGING})
        )
        if decision not in allowed:
            return Outcome(toast=catalog.text("errors.already_answered"))
        shown = await self._ask(catalog, intake, intake.step, answers)
        carry: dict[str, object] = {}
        given: dict[str, object] = {}
        if decision in (Decision.SAME, Decision.CHANGING) and intake.returning_from:
            # Stored as read here, so that the next step is computed from what is stored.
            earlier = await self._storage.answers(intake.returning_from)
            carry = returning.carried_forward(self._questions, block, earlier, answers)
        if decision is Decision.NONE:
            flags = flow.block_questions(self._questions, Block.RED_FLAGS)
            given = {q.id: q.value_of("no") for q in flags if q.id not in answers}
        answers.update(carry)
        answers.update(given)
        intake = replace(intake, checks={**checks, block: decision})
        step = flow.next_step(self._questions, intake.step, answers, _checks(intake))
        await self._storage.decide(
            intake.id,
            block,
            decision,
            next_step=step,
            carried=carry,
            from_intake=intake.returning_from,
            answer=given,
        )
        intake = replace(intake, step=step)
        label = returning.decision_label(block, decision)
        outcome = Outcome(
            edit=returning.decided(catalog, shown, label),
            replies=await self._following(catalog, patient, intake, step, answers),
        )
        if decision is Decision.SOME:
            # Told at once, in case the patient stops before saying which.
            outcome.notifications = self._red_flag_alerts(patient, intake, None)
        return outcome

    async def _drop_closed(
        self, catalog: Catalog, intake: Intake, answers: dict[str, object]
    ) -> list[Reply]:
        """Remove the answers to questions that no longer apply (asked only after an option
        since unticked or changed, such as "somewhere else"), saying so."""
        removed = []
        for q in self._questions.intake:
            if q.id in answers and not q.applies(answers):
                await self._storage.delete_answer(intake.id, q.id)
                del answers[q.id]
                removed.append(Reply(catalog.text("summary.removed", question=catalog.short(q.id))))
        return removed

    async def _enter(
        self, patient: Patient, intake: Intake, step: str, answers: dict[str, object]
    ) -> None:
        """Open an activities question where the patient's visit before left it: the same
        activities, quoted back to be rated again (stored at once, like every answer)."""
        if step in answers or not self._questions.asks(step):
            return
        if self._questions.question(step).kind is not Kind.ACTIVITIES:
            return
        start = await activities_to_rate(self._storage, self._questions, patient.telegram_user_id)
        answers[step] = start.to_value()
        await self._storage.save_answer(intake.id, step, answers[step], next_step=step)

    async def _activity_button(
        self,
        catalog: Catalog,
        patient: Patient,
        intake: Intake,
        answers: dict[str, object],
        question_id: str,
        action: Action,
    ) -> Outcome:
        """A rating, drop, Done or Skip on an activities question: each step stored at once;
        the last one answers the question."""
        before = parse(answers.get(question_id)) or Activities()
        pressed = press(before, action.code)
        if pressed is None:
            return Outcome(toast=catalog.text("errors.already_answered"))
        edit = rendering.activity_step(catalog, question_id, before, action.code)
        value = None if pressed.answer is None else pressed.answer.to_value()
        if pressed.finished:
            outcome = await self._answer(
                catalog, patient, intake, answers, question_id, value, edit=False
            )
            outcome.edit = edit
            return outcome
        answers[question_id] = value
        await self._storage.save_answer(intake.id, question_id, value, next_step=question_id)
        return Outcome(edit=edit, replies=[await self._ask(catalog, intake, question_id, answers)])

    async def _activity_text(
        self,
        catalog: Catalog,
        intake: Intake,
        answers: dict[str, object],
        question_id: str,
        typed: str,
    ) -> Outcome:
        """An activity typed for an activities question: added to be rated next, or why not."""
        before = parse(answers.get(question_id)) or Activities()
        added = rendering.add_activity(catalog, before, typed)
        if isinstance(added, Reply):
            return Outcome(replies=[added, await self._ask(catalog, intake, question_id, answers)])
        answers[question_id] = added.to_value()
        await self._storage.save_answer(
            intake.id, question_id, answers[question_id], next_step=question_id
        )
        return Outcome(replies=[await self._ask(catalog, intake, question_id, answers)])

    async def _complete(
        self, catalog: Catalog, patient: Patient, intake: Intake, answers: Mapping[str, object]
    ) -> Outcome:
        done = await self._storage.complete_intake(intake.id, notified=not self._practitioners)
        outcome = self._guided(catalog, done, answers)
        outcome.edit = Reply(views.summary(catalog, intake.id, answers).html)
        courses = await self._courses(intake.id)
        progress = outcome_views.patient_progress(catalog, courses, self._tz)
        if progress is not None:
            # The patient's own progress, after the thank-you.
            outcome.replies.insert(1, progress)
        # Just completed: no practitioner has it yet.
        earlier = await self._storage.earlier_red_flags(intake.id) if self._practitioners else []
        note = views.practitioner_summary(
            self.staff_catalog,
            patient,
            done,
            answers,
            self._tz,
            earlier,
            courses=courses,
            carried=await self._storage.carried(intake.id) if intake.checks is not None else None,
        )
        outcome.notifications = [Notification(chat_id, note) for chat_id in self._practitioners]
        outcome.notified_intake = intake.id if self._practitioners else None
        return outcome

    async def _courses(self, intake_id: int) -> list[Course]:
        """The patient's pain and function since their first visit, up to this intake."""
        ids = self._questions.scored
        scores = await self._storage.scores(ids, up_to_intake=intake_id)
        return outcome_views.courses_of(self._questions, scores)

    def _guided(self, catalog: Catalog, intake: Intake, answers: Mapping[str, object]) -> Outcome:
        """The thank-you and the guide for a completed intake."""
        return Outcome(
            replies=[
                Reply(catalog.text("done.thanks", clinic=self._clinic)),
                *views.guide_replies(catalog, answers, urgent=intake.urgent),
            ],
            guided_intake=intake.id,
        )

    async def _guide_again(
        self, catalog: Catalog, patient: Patient, intake_id: int
    ) -> Outcome | None:
        """Confirm pressed (or handled again after a crash) for a completed intake whose
        guide never reached the patient: it goes out now. None if it did arrive."""
        if not await self._storage.guide_unsent(intake_id, patient.id):
            return None
        intake = await self._storage.intake(intake_id)
        assert intake is not None
        return self._guided(catalog, intake, await self._storage.answers(intake_id))

    async def mark_guided(self, intake_id: int) -> None:
        """Record that the patient received the thank-you and guide of their intake."""
        await self._storage.mark_guide_sent(intake_id)

    async def completion_notices(self, intake_id: int) -> list[Notification]:
        """The summary for each practitioner who has not received it yet."""
        record = await self._storage.intake_record(intake_id)
        if record is None:
            return []
        note = views.practitioner_summary(
            self.staff_catalog,
            record.patient,
            record.intake,
            record.decoded_answers(),
            self._tz,
            await self._storage.earlier_red_flags(intake_id),
            courses=await self._courses(intake_id),
            carried=record.carried,
        )
        told = await self._storage.notified_practitioners(intake_id)
        return [
            Notification(chat_id, note) for chat_id in self._practitioners if chat_id not in told
        ]

    async def unnotified_intakes(self, completed_before: datetime | None = None) -> list[int]:
        """Completed intakes the practitioners have not been told of (after a crash, or a
        notification Telegram refused), completed before `completed_before` if given."""
        return await self._storage.unnotified_intakes(completed_before)

    async def mark_notified(self, intake_id: int, chat_ids: Collection[int]) -> None:
        """Record that these practitioners have been told of a completed intake (it counts
        as notified once all of them have)."""
        await self._storage.mark_notified(intake_id, chat_ids, self._practitioners)


def _checks(intake: Intake) -> Checks | None:
    """A returning intake's decisions by block; None for an intake that asks everything."""
    return intake.checks


def _changing(intake: Intake) -> bool:
    """Whether the patient is picking answers of a block to change (the block's step)."""
    block = flow.check_block(intake.step)
    checks = _checks(intake)
    return block is not None and checks is not None and checks.get(block) == Decision.CHANGING
