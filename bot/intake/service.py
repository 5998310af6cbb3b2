"""The intake conversation: turns a patient's actions into stored answers and replies.

Plain domain code: it knows storage and content, not Telegram. Every answer is written
before the reply to it is produced, and the conversation position lives in the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot import render
from bot.content import DEFAULT_LANGUAGE, Catalog, Content
from bot.intake import flow
from bot.intake.actions import Action, Verb
from bot.intake.outgoing import Notification, Outcome, Reply
from bot.intake.questionnaire import AREA_OTHER, QUESTIONS, Kind, question
from bot.intake.screening import cautions, is_red_flag
from storage import Intake, Patient, Storage

MAX_TEXT_ANSWER = 1000


@dataclass(frozen=True, slots=True)
class Who:
    """The Telegram user behind an update."""

    user_id: int
    chat_id: int
    first_name: str | None = None
    username: str | None = None
    language_code: str | None = None


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
    ) -> None:
        self._storage = storage
        self._content = content
        self._clinic = clinic_name
        self._practitioners = sorted(practitioner_ids)
        self._tz = timezone

    # Helpers --------------------------------------------------------------------------

    def catalog_for(self, who: Who) -> Catalog:
        """The catalog in the user's Telegram language (or the default)."""
        return self._content.catalog(who.language_code)

    async def _patient(self, who: Who) -> Patient:
        language = self._content.catalog(who.language_code).language
        return await self._storage.ensure_patient(who.user_id, who.chat_id, language)

    def _consent_version(self, catalog: Catalog) -> str:
        return hashlib.sha256(catalog.raw("consent.welcome").encode()).hexdigest()[:12]

    async def _consent_current(self, patient: Patient, catalog: Catalog) -> bool:
        consent = await self._storage.latest_consent(patient.id)
        return bool(
            consent and consent.given and consent.text_version == self._consent_version(catalog)
        )

    async def _prompt(self, catalog: Catalog, intake: Intake) -> Reply:
        """The message for the intake's current step."""
        if intake.step == flow.CONSENT:
            return render.welcome(catalog, intake.id, self._clinic)
        answers = await self._storage.answers(intake.id)
        if intake.step == flow.SUMMARY:
            return render.summary(catalog, intake.id, answers)
        return render.question_reply(catalog, intake.id, intake.step, answers)

    async def _begin(self, who: Who, patient: Patient, payload: str | None) -> Outcome:
        """Open a new intake: at the consent step unless consent is already on record."""
        catalog = self.catalog_for(who)
        consented = await self._consent_current(patient, catalog)
        step = flow.FIRST_QUESTION if consented else flow.CONSENT
        intake = await self._storage.start_intake(
            patient.id, step=step, content_version=self._content.version, start_payload=payload
        )
        return Outcome(replies=[await self._prompt(catalog, intake)])

    # Commands -------------------------------------------------------------------------

    async def start(self, who: Who, payload: str | None = None) -> Outcome:
        """/start, optionally with a deep-link payload."""
        catalog = self.catalog_for(who)
        patient = await self._patient(who)
        intake = await self._storage.open_intake(patient.id)
        if intake is not None:
            if intake.step == flow.CONSENT:
                return Outcome(replies=[await self._prompt(catalog, intake)])
            resume = render.choice(
                catalog,
                "flow.resume",
                [
                    ("flow.resume_button", Action(Verb.RESUME, intake.id, "", "go")),
                    ("flow.restart_button", Action(Verb.RESUME, intake.id, "", "again")),
                ],
            )
            return Outcome(replies=[resume])
        done = await self._storage.latest_completed_intake(patient.id)
        if done is not None and payload is None:
            offer = render.choice(
                catalog,
                "flow.already_done",
                [("flow.new_intake_button", Action(Verb.NEW))],
                date=render.local_time(done.completed_at, self._tz)[:10],
            )
            return Outcome(replies=[offer])
        return await self._begin(who, patient, payload)

    async def cancel(self, who: Who) -> Outcome:
        """/cancel: leave the current step; the answers so far stay stored."""
        catalog = self.catalog_for(who)
        patient = await self._storage.patient_by_telegram_id(who.user_id)
        intake = await self._storage.open_intake(patient.id) if patient else None
        key = "flow.paused" if intake is not None else "flow.nothing_to_cancel"
        return Outcome(replies=[Reply(catalog.text(key))])

    async def guide(self, who: Who) -> Outcome:
        """/guide: the guide for the latest completed intake."""
        catalog = self.catalog_for(who)
        patient = await self._storage.patient_by_telegram_id(who.user_id)
        intake = await self._storage.latest_completed_intake(patient.id) if patient else None
        if intake is None:
            return Outcome(replies=[Reply(catalog.text("help.no_guide"))])
        answers = await self._storage.answers(intake.id)
        return Outcome(replies=render.guide_replies(catalog, answers, urgent=intake.urgent))

    def help(self, who: Who) -> Outcome:
        """/help."""
        return Outcome(
            replies=[Reply(self.catalog_for(who).text("help.text", clinic=self._clinic))]
        )

    def privacy(self, who: Who) -> Outcome:
        """/privacy."""
        catalog = self.catalog_for(who)
        return Outcome(replies=[Reply(catalog.text("privacy.text", clinic=self._clinic))])

    def unknown_command(self, who: Who) -> Outcome:
        """A command the bot does not have."""
        return Outcome(replies=[Reply(self.catalog_for(who).text("help.unknown_command"))])

    async def delete(self, who: Who) -> Outcome:
        """/delete: ask for confirmation first."""
        catalog = self.catalog_for(who)
        if await self._storage.patient_by_telegram_id(who.user_id) is None:
            return Outcome(replies=[Reply(catalog.text("delete.nothing"))])
        confirm = render.choice(
            catalog,
            "delete.confirm",
            [
                ("delete.yes_button", Action(Verb.DELETE, code="yes")),
                ("delete.no_button", Action(Verb.DELETE, code="no")),
            ],
        )
        return Outcome(replies=[confirm])

    # Free input -----------------------------------------------------------------------

    async def text(self, who: Who, text: str) -> Outcome:
        """A text message: the answer to a text question, or a nudge back to the buttons."""
        catalog = self.catalog_for(who)
        patient = await self._storage.patient_by_telegram_id(who.user_id)
        intake = await self._storage.open_intake(patient.id) if patient else None
        if intake is None:
            return Outcome(replies=[Reply(catalog.text("flow.idle"))])
        if (
            intake.step in (flow.CONSENT, flow.SUMMARY)
            or question(intake.step).kind is not Kind.TEXT
        ):
            nudge = Reply(catalog.text("flow.use_buttons"))
            return Outcome(replies=[nudge, await self._prompt(catalog, intake)])
        answer = text.strip()
        if not answer:
            return Outcome(replies=[await self._prompt(catalog, intake)])
        if len(answer) > MAX_TEXT_ANSWER:
            return Outcome(
                replies=[Reply(catalog.text("flow.text_too_long", limit=MAX_TEXT_ANSWER))]
            )
        return await self._answer(catalog, intake, intake.step, answer, edit=False)

    async def unexpected(self, who: Who, *, edited: bool) -> Outcome:
        """A sticker, photo, edited message or anything else the bot cannot use."""
        catalog = self.catalog_for(who)
        key = "errors.edited" if edited else "errors.not_text"
        outcome = Outcome(replies=[Reply(catalog.text(key))])
        patient = await self._storage.patient_by_telegram_id(who.user_id)
        intake = await self._storage.open_intake(patient.id) if patient else None
        if intake is not None:
            outcome.replies.append(await self._prompt(catalog, intake))
        else:
            outcome.replies.append(Reply(catalog.text("flow.idle")))
        return outcome

    # Buttons --------------------------------------------------------------------------

    async def button(self, who: Who, data: str) -> Outcome:
        """A button press. Buttons from old messages or forged data are answered safely."""
        catalog = self.catalog_for(who)
        action = Action.decode(data)
        patient = await self._storage.patient_by_telegram_id(who.user_id)
        if action is None or patient is None:
            return await self._stale(catalog, None)
        if action.verb is Verb.DELETE:
            return await self._delete(catalog, patient, action.code)
        intake = await self._storage.open_intake(patient.id)
        if action.verb is Verb.NEW:
            if intake is not None:
                return await self._stale(catalog, intake)
            return await self._begin(who, patient, None)
        if intake is None or intake.id != action.intake_id:
            return await self._stale(catalog, intake)
        if action.verb is Verb.RESUME:
            if action.code == "again":
                return await self._begin(who, patient, intake.start_payload)
            return Outcome(replies=[await self._prompt(catalog, intake)])
        if action.verb is Verb.CONSENT and intake.step == flow.CONSENT:
            return await self._consent(who, catalog, patient, intake, action.code == "yes")
        if action.verb is Verb.SUMMARY and intake.step == flow.SUMMARY:
            if action.code == "ok":
                return await self._complete(catalog, intake)
            if action.code == "again":
                return await self._begin(who, patient, intake.start_payload)
        if action.question != intake.step or action.question not in QUESTIONS:
            return await self._stale(catalog, intake)
        q = question(action.question)
        if action.verb is Verb.ANSWER and action.code in q.codes:
            value: object = int(action.code) if q.kind is Kind.SCALE else action.code
            return await self._answer(catalog, intake, q.id, value, edit=True)
        if action.verb is Verb.SKIP and q.optional:
            return await self._answer(catalog, intake, q.id, None, edit=True)
        if action.verb is Verb.TOGGLE and q.kind is Kind.MULTI and action.code in q.codes:
            return await self._toggle(catalog, intake, q.id, action.code)
        if action.verb is Verb.DONE and q.kind is Kind.MULTI:
            return await self._finish_multi(catalog, intake, q.id)
        return await self._stale(catalog, intake)

    async def _stale(self, catalog: Catalog, intake: Intake | None) -> Outcome:
        if intake is None:
            return Outcome(
                toast=catalog.text("errors.stale"),
                replies=[Reply(catalog.text("flow.idle"))],
            )
        return Outcome(
            toast=catalog.text("errors.stale"),
            replies=[
                Reply(catalog.text("errors.stale")),
                await self._prompt(catalog, intake),
            ],
        )

    async def _consent(
        self, who: Who, catalog: Catalog, patient: Patient, intake: Intake, given: bool
    ) -> Outcome:
        await self._storage.record_consent(patient.id, given, self._consent_version(catalog))
        label = catalog.text("consent.agree_button" if given else "consent.decline_button")
        welcome = catalog.text("consent.welcome", clinic=self._clinic)
        edit = Reply(f"{welcome}\n\n{catalog.text('flow.chosen', answer=label)}")
        if not given:
            # Nothing but the refusal is kept: the intake (and its deep-link payload) goes.
            await self._storage.discard_intake(intake.id)
            return Outcome(edit=edit, replies=[Reply(catalog.text("consent.declined"))])
        await self._storage.update_profile(patient.id, who.first_name, who.username)
        await self._storage.set_step(intake.id, flow.FIRST_QUESTION)
        first = render.question_reply(catalog, intake.id, flow.FIRST_QUESTION, {})
        return Outcome(edit=edit, replies=[Reply(catalog.text("consent.agreed")), first])

    async def _answer(
        self, catalog: Catalog, intake: Intake, question_id: str, value: object, *, edit: bool
    ) -> Outcome:
        answers = await self._storage.answers(intake.id)
        answers[question_id] = value
        step = flow.next_step(question_id, answers)
        flagged = is_red_flag(question_id, value)
        await self._storage.save_answer(
            intake.id, question_id, value, next_step=step, red_flag=question_id if flagged else None
        )
        outcome = Outcome(edit=render.answered(catalog, question_id, value) if edit else None)
        if flagged:
            outcome.replies.append(Reply(catalog.text("safety.red_flag")))
        if step == flow.SUMMARY:
            if cautions(answers):
                outcome.replies.append(Reply(catalog.text("safety.cautions")))
            outcome.replies.append(render.summary(catalog, intake.id, answers))
        else:
            outcome.replies.append(render.question_reply(catalog, intake.id, step, answers))
        return outcome

    async def _toggle(
        self, catalog: Catalog, intake: Intake, question_id: str, code: str
    ) -> Outcome:
        answers = await self._storage.answers(intake.id)
        current = answers.get(question_id)
        chosen = [c for c in current if isinstance(c, str)] if isinstance(current, list) else []
        chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
        ordered = [c for c in question(question_id).codes if c in chosen]
        await self._storage.save_answer(intake.id, question_id, ordered)
        answers[question_id] = ordered
        return Outcome(edit=render.question_reply(catalog, intake.id, question_id, answers))

    async def _finish_multi(self, catalog: Catalog, intake: Intake, question_id: str) -> Outcome:
        answers = await self._storage.answers(intake.id)
        chosen = answers.get(question_id)
        if not isinstance(chosen, list) or not chosen:
            return Outcome(toast=catalog.text("flow.pick_one_first"))
        if AREA_OTHER not in chosen and "areas_other" in answers:
            # The follow-up no longer applies once "somewhere else" is unticked.
            await self._storage.delete_answer(intake.id, "areas_other")
            del answers["areas_other"]
        step = flow.next_step(question_id, answers)
        await self._storage.set_step(intake.id, step)
        return Outcome(
            edit=render.answered(catalog, question_id, chosen),
            replies=[render.question_reply(catalog, intake.id, step, answers)],
        )

    async def _complete(self, catalog: Catalog, intake: Intake) -> Outcome:
        await self._storage.complete_intake(intake.id)
        answers = await self._storage.answers(intake.id)
        record = await self._storage.intake_record(intake.id)
        assert record is not None
        outcome = Outcome(
            edit=Reply(render.summary(catalog, intake.id, answers).html),
            replies=[
                Reply(catalog.text("done.thanks", clinic=self._clinic)),
                *render.guide_replies(catalog, answers, urgent=record.intake.urgent),
            ],
        )
        staff = self._content.catalog(DEFAULT_LANGUAGE)
        note = render.practitioner_summary(staff, record, self._tz)
        outcome.notifications = [Notification(chat_id, note) for chat_id in self._practitioners]
        return outcome

    async def _delete(self, catalog: Catalog, patient: Patient, code: str) -> Outcome:
        if code != "yes":
            return Outcome(edit=Reply(catalog.text("delete.kept")))
        await self._storage.delete_patient(patient.id)
        return Outcome(edit=Reply(catalog.text("delete.done")))
