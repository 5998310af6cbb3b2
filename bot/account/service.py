"""The patient's account: /privacy, /mydata, /delete (and withdrawing consent), /language
and /reminders. Plain domain code: storage and content, no Telegram."""

from __future__ import annotations

from collections.abc import Collection
from zoneinfo import ZoneInfo

from bot.account import mydata
from bot.content import Catalog, Content
from bot.intake import views
from bot.intake.service import IntakeService
from bot.outcomes import views as outcome_views
from bot.outcomes.stored import course_photos
from bot.vocabulary import rendering
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Button, Notification, Outcome, Reply
from bot.vocabulary.people import Who
from bot.vocabulary.routes import Routes
from storage import AppointmentStatus, Patient, Storage, utc_now


class AccountService:
    """What a patient can see, change and erase of their own record."""

    def __init__(
        self,
        storage: Storage,
        content: Content,
        intake: IntakeService,
        *,
        clinic_name: str,
        practitioner_ids: Collection[int],
        timezone: ZoneInfo,
    ) -> None:
        self._storage = storage
        self._content = content
        self._intake = intake
        self._clinic = clinic_name
        self._practitioners = sorted(practitioner_ids)
        self._tz = timezone

    def routes(self) -> Routes:
        """The account's commands and buttons."""
        return Routes(
            commands={
                "privacy": self.privacy,
                "mydata": self.mydata,
                "progress": self.progress,
                "delete": self.delete,
                "reminders": self.reminders,
                "language": self.language_choice,
            },
            buttons={Verb.LANGUAGE: self._set_language, Verb.DELETE: self._erase},
        )

    def _catalog(self, who: Who) -> Catalog:
        return self._content.catalog(who.language_code)

    async def privacy(self, who: Who, _: list[str]) -> Outcome:
        """/privacy."""
        text = self._catalog(who).text("privacy.text", clinic=self._clinic)
        return Outcome(replies=[Reply(text)])

    async def mydata(self, who: Who, _: list[str]) -> Outcome:
        """/mydata: everything stored about the patient, readable and as a JSON file."""
        catalog = self._catalog(who)
        patient = await self._storage.patient_by_telegram_id(who.user_id)
        if patient is None:
            return Outcome(replies=[Reply(catalog.text("mydata.nothing"))])
        data = await mydata.collect(self._storage, patient, catalog, self._tz)
        await self._storage.audit(who.user_id, "patient viewed own data", who.user_id)
        return Outcome(
            replies=mydata.readable(catalog, data), documents=[mydata.document(catalog, data)]
        )

    async def progress(self, who: Who, _: list[str]) -> Outcome:
        """/progress: the patient's own scores over their visits, in kind words, and their
        chart."""
        catalog = self._catalog(who)
        patient = await self._storage.patient_by_telegram_id(who.user_id)
        ids = catalog.questionnaire.scored
        scores = await self._storage.scores(ids, telegram_user_id=who.user_id) if patient else []
        courses = outcome_views.courses_of(catalog.questionnaire, scores)
        if patient is None or not courses:
            return Outcome(replies=[Reply(catalog.text("progress.too_early"))])
        found = outcome_views.readings_of(catalog.questionnaire, scores)
        caption = catalog.text("chart.caption_patient")
        photos = await course_photos(self._storage, catalog, patient, scores, self._tz, caption)
        replies = outcome_views.patient_course(catalog, found, courses, self._tz)
        return Outcome(replies=replies, photos=photos)

    async def delete(self, who: Who, _: list[str]) -> Outcome:
        """/delete: ask for confirmation first."""
        catalog = self._catalog(who)
        if await self._storage.patient_by_telegram_id(who.user_id) is None:
            return Outcome(replies=[Reply(catalog.text("delete.nothing"))])
        return Outcome(replies=[views.erase_confirmation(catalog, views.ERASE)])

    async def reminders(self, who: Who, args: list[str]) -> Outcome:
        """/reminders on|off: the patient's choice about appointment messages, kept."""
        catalog = self._catalog(who)
        patient = await self._intake.patient(who)
        argument = args[0].lower() if args else None
        if argument in ("on", "off"):
            await self._storage.set_reminders(patient.id, argument == "on")
            return Outcome(replies=[Reply(catalog.text(f"reminders.{argument}"))])
        key = "reminders.status_on" if patient.reminders_enabled else "reminders.status_off"
        return Outcome(replies=[Reply(catalog.text(key))])

    async def language_choice(self, who: Who, _: list[str]) -> Outcome:
        """/language: one button per language, each labelled in its own language."""
        row = tuple(
            Button(
                self._content.catalog(code).text("language.name_button"),
                Action(Verb.LANGUAGE, code=code).encode(),
            )
            for code in self._content.languages
        )
        return Outcome(replies=[Reply(self._catalog(who).text("language.choose"), (row,))])

    async def _set_language(self, who: Who, action: Action) -> Outcome | None:
        code = action.code
        if code not in self._content.languages:
            return None
        patient = await self._intake.patient(who)
        await self._storage.set_language(patient.id, code)
        catalog = self._content.catalog(code)
        outcome = Outcome(edit=Reply(catalog.text("language.changed")))
        intake = await self._storage.open_intake(patient.id)
        if intake is not None and not intake.paused:
            outcome.replies.append(await self._intake.prompt(catalog, intake))
        return outcome

    async def _erase(self, who: Who, action: Action) -> Outcome | None:
        patient = await self._intake.known_patient(who)
        if patient is None:
            return None
        catalog = self._content.catalog(patient.language)
        if action.code not in (views.ERASE, views.WITHDRAW):
            return Outcome(edit=Reply(catalog.text("delete.kept")))
        return await self._delete(catalog, patient, withdrawn=action.code == views.WITHDRAW)

    async def _delete(self, catalog: Catalog, patient: Patient, *, withdrawn: bool) -> Outcome:
        # Erasing the patient erases their appointments: the clinic must know which times
        # are free again (when, not whose).
        released = [
            a.starts_at
            for a in await self._storage.patient_appointments(patient.id)
            if a.status is AppointmentStatus.SCHEDULED and a.starts_at > utc_now()
        ]
        await self._storage.delete_patient(patient.id)
        action = "erased (consent withdrawn)" if withdrawn else "erased (/delete)"
        await self._storage.audit(patient.telegram_user_id, action, patient.telegram_user_id)
        # The practitioners learn that a record went, not whose or what was in it.
        staff = self._content.staff
        lines = [staff.text("practitioner.erased")]
        if released:
            slots = ", ".join(rendering.local_time(when, self._tz) for when in sorted(released))
            lines.append(staff.text("practitioner.erased_slots", slots=slots))
        notice = Reply("\n".join(lines))
        outcome = Outcome(
            edit=Reply(catalog.text("delete.done")),
            notifications=[Notification(chat_id, notice) for chat_id in self._practitioners],
        )
        if withdrawn:
            # Erased as by /delete; what stays is the refusal itself, as for anyone who
            # says no.
            again = await self._storage.ensure_patient(
                patient.telegram_user_id, patient.chat_id, patient.language
            )
            version = self._intake.consent_version(catalog)
            await self._storage.record_consent(again.id, False, version)
            outcome.replies.append(Reply(catalog.text("consent.declined")))
        return outcome
