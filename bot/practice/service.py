"""Practitioner commands and buttons. Only the configured practitioners get an answer;
anyone else, including forged or replayed button data, learns nothing and is logged."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.content import Catalog, Content
from bot.outcomes import views as outcome_views
from bot.outcomes.stored import course_photos
from bot.practice import views
from bot.practice.messaging import Messaging
from bot.scheduling.agenda import agenda
from bot.scheduling.checkins import alerting_answers
from bot.scores.measures import Course, Judgement
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Document, Outcome, Reply
from bot.vocabulary.people import Who
from storage import IntakeStatus, Patient, Score, Storage, Visit, utc_now

log = logging.getLogger(__name__)
FLAGGED_LIMIT = 30
PATIENT_MATCHES = 10  # buttons for a name search; more matches ask for more of the name
MIN_NAME_SEARCH = 2
# Check-ins are not marked reviewed: /flagged shows the escalations of this long ago.
FLAGGED_FOLLOWUP_DAYS = timedelta(days=14)
CsvExport = Callable[[], Awaitable[tuple[str, int]]]
# The practitioners' menu, and the button verbs that are theirs.
COMMANDS = ("today", "upcoming", "intakes", "flagged", "patient", "export")
VERBS = frozenset(
    {Verb.OPEN, Verb.OPEN_INTAKE, Verb.REVIEW, Verb.PAGE, Verb.VISIT, Verb.MESSAGE, Verb.END_THREAD}
)
# The latest messages between the clinic and the patient shown on a record.
RECORD_MESSAGES = 10


class PracticeService:
    """What practitioners can see and do in Telegram."""

    def __init__(
        self,
        storage: Storage,
        content: Content,
        *,
        practitioner_ids: Collection[int],
        timezone: ZoneInfo,
        csv_export: CsvExport,
        messaging: Messaging,
    ) -> None:
        self._storage = storage
        self._messaging = messaging
        self._catalog: Catalog = content.staff
        self._practitioners = frozenset(practitioner_ids)
        self._tz = timezone
        self._csv_export = csv_export

    async def _refuse(
        self, who: Who, what: str, detail: str | None = None, *, toast: bool = False
    ) -> Outcome:
        # The log names only the kind of attempt; what a stranger sent goes to the audit.
        log.warning("refused %s for a user who is not a practitioner", what)
        await self._storage.audit(who.user_id, "refused", None, detail or what)
        text = self._catalog.text("practitioner.not_available")
        return Outcome(toast=text) if toast else Outcome(replies=[Reply(text)])

    async def command(self, who: Who, name: str, args: list[str]) -> Outcome:
        """/today, /upcoming, /intakes, /flagged, /patient ID or NAME, /export (COMMANDS)."""
        if who.user_id not in self._practitioners:
            return await self._refuse(who, f"/{name}")
        commands = {
            "today": self._agenda,
            "upcoming": self._agenda,
            "intakes": self._intakes,
            "flagged": self._flagged,
            "patient": self._patient,
            "export": self._export,
        }
        return await commands[name](who, name, args)

    async def _agenda(self, who: Who, name: str, _: list[str]) -> Outcome:
        await self._storage.audit(who.user_id, f"viewed /{name}")
        upcoming = name == "upcoming"
        replies = await agenda(self._storage, self._catalog, utc_now(), self._tz, upcoming=upcoming)
        return Outcome(replies=replies)

    async def _intakes(self, who: Who, _: str, __: list[str]) -> Outcome:
        return await self._page(who, 0)

    async def _flagged(self, who: Who, _: str, __: list[str]) -> Outcome:
        await self._storage.audit(who.user_id, "viewed /flagged")
        records = await self._storage.intake_records(
            flagged=True, newest_first=True, limit=FLAGGED_LIMIT
        )
        heading = self._catalog.text("practitioner.flagged_heading")
        replies = [views.intake_list(self._catalog, records, self._tz, heading=heading)]
        since = utc_now() - FLAGGED_FOLLOWUP_DAYS
        questions = self._catalog.questionnaire
        escalations = [
            (f, alerting)
            for f in await self._storage.followup_records()
            if f.message.sent_at is not None and f.message.sent_at >= since
            if (alerting := alerting_answers(questions, f.answers))
        ]
        if escalations:
            escalations.sort(key=lambda pair: pair[0].message.sent_at or since, reverse=True)
            days = FLAGGED_FOLLOWUP_DAYS.days
            newest = escalations[:FLAGGED_LIMIT]
            replies += views.flagged_followups(self._catalog, newest, self._tz, days)
        worse = await self._worse()
        if worse:
            replies += views.worse_courses(self._catalog, worse[:FLAGGED_LIMIT], self._tz)
        return Outcome(replies=replies)

    async def _worse(self) -> list[tuple[Patient, Course]]:
        """Each measure (pain, function) whose latest value is clinically importantly worse
        than a patient's first, most recent first."""
        questions = self._catalog.questionnaire
        by_patient: dict[int, list[Score]] = {}
        for score in await self._storage.scores(questions.scored):
            by_patient.setdefault(score.telegram_user_id, []).append(score)
        found = []
        for telegram_user_id, scores in by_patient.items():
            worse = [
                c
                for c in outcome_views.courses_of(questions, scores)
                if c.judgement is Judgement.WORSE
            ]
            patient = (
                await self._storage.patient_by_telegram_id(telegram_user_id) if worse else None
            )
            if patient is not None:
                found += [(patient, course) for course in worse]
        found.sort(key=lambda pair: pair[1].latest.at, reverse=True)
        return found

    async def _patient(self, who: Who, _: str, args: list[str]) -> Outcome:
        """/patient ID, or /patient NAME: one match opens the record, several are buttons."""
        if len(args) == 1 and args[0].isascii() and args[0].isdigit():
            return await self._record(who, int(args[0]))
        name = " ".join(args).strip().removeprefix("@")
        if len(name) < MIN_NAME_SEARCH:
            return Outcome(replies=[Reply(self._catalog.text("practitioner.patient_usage"))])
        # Audited without the name searched for: the trail holds no patient data.
        await self._storage.audit(who.user_id, "searched patients by name")
        found = await self._storage.find_patients(name, PATIENT_MATCHES + 1)
        if len(found) == 1:
            return await self._record(who, found[0].telegram_user_id)
        return Outcome(replies=[views.patient_matches(self._catalog, found, PATIENT_MATCHES)])

    async def _export(self, who: Who, _: str, __: list[str]) -> Outcome:
        text, count = await self._csv_export()
        await self._storage.audit(who.user_id, "exported (Telegram)", None, "csv")
        caption = self._catalog.text("practitioner.export_caption", count=count)
        document = Document(f"ashi-intakes-{utc_now():%Y%m%d}.csv", text.encode(), caption)
        return Outcome(documents=[document])

    async def button(self, who: Who, data: str) -> Outcome:
        """Open record, mark reviewed, page through intakes, record a visit, write to a
        patient or end that conversation."""
        action = Action.decode(data)
        if who.user_id not in self._practitioners or action is None:
            return await self._refuse(who, "a button", f"button {data[:64]!r}", toast=True)
        if action.verb is Verb.OPEN:
            return await self._record(who, action.telegram_user_id)
        if action.verb is Verb.OPEN_INTAKE:
            intake = await self._storage.intake(action.intake_id)
            patient = await self._storage.patient(intake.patient_id) if intake else None
            if patient is None:
                text = self._catalog.text("practitioner.no_intake", intake=action.intake_id)
                return Outcome(replies=[Reply(text)])
            return await self._record(who, patient.telegram_user_id, shown=action.intake_id)
        if action.verb is Verb.REVIEW:
            return await self._review(who, action.intake_id)
        if action.verb is Verb.VISIT:
            return await self._visit(who, action)
        if action.verb is Verb.MESSAGE:
            return await self._messaging.open(who, action.telegram_user_id)
        if action.verb is Verb.END_THREAD:
            return await self._messaging.end(who, action.thread_id)
        return await self._page(who, action.page)

    async def _review(self, who: Who, intake_id: int) -> Outcome:
        reviewed = await self._storage.mark_reviewed(intake_id, who.user_id)
        intake = await self._storage.intake(intake_id)
        patient = await self._storage.patient(intake.patient_id) if intake else None
        subject = patient.telegram_user_id if patient else None
        if reviewed:
            await self._storage.audit(
                who.user_id, "marked reviewed", subject, f"intake {intake_id}"
            )
            key = "practitioner.reviewed"
        elif intake is not None and intake.status is not IntakeStatus.COMPLETED:
            key = "practitioner.review_not_completed"
        else:
            key = "practitioner.already_reviewed"
        return Outcome(toast=self._catalog.text(key))

    async def _visit(self, who: Who, action: Action) -> Outcome:
        """Came / no-show under /today: recorded, audited, and /today shown again."""
        appointment = await self._storage.appointment(action.appointment_id)
        if (
            action.code not in set(Visit)
            or appointment is None
            or not await self._storage.set_visit(appointment.id, Visit(action.code))
        ):
            return Outcome(toast=self._catalog.text("practitioner.visit_unknown"))
        visit = Visit(action.code)
        patient = (
            await self._storage.patient(appointment.patient_id) if appointment.patient_id else None
        )
        subject = patient.telegram_user_id if patient else None
        await self._storage.audit(
            who.user_id, f"recorded {visit}", subject, f"appointment {appointment.id}"
        )
        label = (
            "practitioner.attended_mark" if visit is Visit.ATTENDED else "practitioner.no_show_mark"
        )
        toast = self._catalog.text("practitioner.visit_recorded", visit=self._catalog.text(label))
        now = utc_now()
        if appointment.starts_at.astimezone(self._tz).date() != now.astimezone(self._tz).date():
            return Outcome(toast=toast)  # a button of an earlier day's /today
        replies = await agenda(self._storage, self._catalog, now, self._tz, upcoming=False)
        # Today's list is shown again with the new mark, when it is one message.
        return Outcome(toast=toast, edit=replies[0] if len(replies) == 1 else None)

    async def _page(self, who: Who, page: int) -> Outcome:
        await self._storage.audit(who.user_id, "viewed /intakes", None, f"page {page + 1}")
        size = views.PAGE_SIZE
        records = await self._storage.intake_records(
            newest_first=True, limit=size + 1, offset=page * size
        )
        heading = self._catalog.text("practitioner.list_heading", page=page + 1)
        reply = views.intake_list(
            self._catalog,
            records[:size],
            self._tz,
            heading=heading,
            page=page,
            more=len(records) > size,
        )
        return Outcome(replies=[reply])

    async def _record(
        self, who: Who, telegram_user_id: int, *, shown: int | None = None
    ) -> Outcome:
        records = await self._storage.intake_records(telegram_user_id=telegram_user_id)
        if not records:
            return Outcome(replies=[Reply(self._catalog.text("practitioner.no_patient"))])
        detail = f"intake {shown}" if shown is not None else None
        await self._storage.audit(who.user_id, "viewed a record", telegram_user_id, detail)
        followups = await self._storage.followup_records(telegram_user_id)
        messages = await self._storage.thread_messages(records[0].patient.id, RECORD_MESSAGES)
        ids = self._catalog.questionnaire.scored
        scores = await self._storage.scores(ids, telegram_user_id=telegram_user_id)
        # The courses up to the intake shown in full (an earlier one shows them as then).
        full = shown if any(r.intake.id == shown for r in records) else records[-1].intake.id
        upto = await self._storage.scores(ids, up_to_intake=full)
        replies = views.patient_record(
            self._catalog,
            records,
            followups,
            messages,
            self._tz,
            scores=scores,
            courses=outcome_views.courses_of(self._catalog.questionnaire, upto),
            shown=shown,
        )
        caption = self._catalog.text("chart.caption_practitioner", id=telegram_user_id)
        photos = await course_photos(
            self._storage, self._catalog, records[0].patient, scores, self._tz, caption
        )
        return Outcome(replies=replies, photos=photos)
