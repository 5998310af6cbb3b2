"""Conversations through the bot ("Message patient"): a practitioner writes to a patient,
marked as from the clinic, and the patient's answers come back to that practitioner while
the conversation is open. Every message is stored with the patient's data before it is
passed on, and whether it arrived is recorded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta

from bot.content import Content
from bot.telegram_html import parse_html, utf16_len
from bot.vocabulary import rendering
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Keyboard, Outcome, Relay, Relayed, Reply
from bot.vocabulary.people import Who
from bot.vocabulary.routes import Routes
from storage import Author, Delivery, Patient, Storage, Thread, utc_now

# A conversation ends by itself after this long without a message either way.
THREAD_LAPSES = timedelta(hours=24)
AwaitsText = Callable[[Patient], Awaitable[bool]]


class Messaging:
    """Opening, carrying and ending conversations between practitioners and patients.

    Only practitioners open or end them (PracticeService checks who presses the buttons);
    a patient's text goes to the clinic only while one is open and their intake is not
    waiting for a typed answer.
    """

    def __init__(
        self,
        storage: Storage,
        content: Content,
        *,
        clinic_name: str,
        practitioner_ids: Collection[int],
        relay: Relay,
        awaits_text: AwaitsText,
    ) -> None:
        self._storage = storage
        self._content = content
        self._staff = content.staff
        self._clinic = clinic_name
        self._practitioners = frozenset(practitioner_ids)
        self._relay = relay
        self._awaits_text = awaits_text

    def routes(self) -> Routes:
        """Text only: the buttons are the practitioners' (PracticeService)."""
        return Routes(text=self.text)

    def _name(self, patient: Patient) -> str:
        return rendering.patient_name(self._staff, patient)

    def _end_keyboard(self, thread: Thread) -> Keyboard:
        return rendering.button_row(
            self._staff,
            [
                ("practitioner.thread_end_button", Action(Verb.END_THREAD, thread.id)),
                ("practitioner.open_button", Action(Verb.OPEN, thread.patient.telegram_user_id)),
            ],
        )

    async def open(self, who: Who, telegram_user_id: int) -> Outcome:
        """The practitioner's "Message patient": what they type next goes to the patient."""
        patient = await self._storage.patient_by_telegram_id(telegram_user_id)
        consent = await self._storage.latest_consent(patient.id) if patient else None
        if patient is None or consent is None or not consent.given:
            return _reply(self._staff.text("practitioner.thread_unavailable"))
        if patient.unreachable_at is not None:
            text = self._staff.text("practitioner.thread_blocked", patient=self._name(patient))
            return _reply(text)
        before = await self._storage.open_thread_of(telegram_user_id)
        thread = await self._storage.open_thread(patient.id, who.user_id)
        if (
            before is not None
            and before.patient.id == patient.id
            and before.practitioner_id != who.user_id
        ):
            # The other practitioner's texts would otherwise stop reaching the patient unsaid.
            taken = self._staff.text("practitioner.thread_taken_over", patient=self._name(patient))
            await self._relay(before.practitioner_id, Reply(taken))
        await self._storage.audit(
            who.user_id, "opened a conversation", telegram_user_id, f"thread {thread.id}"
        )
        text = self._staff.text(
            "practitioner.thread_opened",
            patient=self._name(patient),
            clinic=self._clinic,
            hours=int(THREAD_LAPSES.total_seconds() // 3600),
        )
        return Outcome(replies=[Reply(text, self._end_keyboard(thread))])

    async def end(self, who: Who, thread_id: int) -> Outcome:
        """The practitioner's "End conversation"; the patient is told."""
        thread = await self._storage.thread(thread_id)
        if (
            thread is None
            or thread.practitioner_id != who.user_id
            or not await self._storage.close_thread(thread.id)
        ):
            return Outcome(toast=self._staff.text("practitioner.thread_not_open"))
        patient = thread.patient
        await self._storage.audit(
            who.user_id, "ended a conversation", patient.telegram_user_id, f"thread {thread.id}"
        )
        ended = self._content.catalog(patient.language).text("thread.ended")
        await self._relay(patient.chat_id, Reply(ended))
        text = self._staff.text("practitioner.thread_ended", patient=self._name(patient))
        return Outcome(replies=[Reply(text)])

    async def text(self, who: Who, text: str) -> Outcome | None:
        """A practitioner's text while they have a conversation open goes to the patient; a
        patient's while theirs is open goes to the practitioner. None: not for us."""
        thread = await self._storage.open_thread_of(who.user_id)
        if thread is None:
            return None
        as_patient = thread.patient.telegram_user_id == who.user_id
        if as_patient and await self._awaits_text(thread.patient):
            # The answer to the intake's question in front of them (a practitioner trying
            # the bot on themselves included).
            return None
        if thread.practitioner_id == who.user_id and who.user_id in self._practitioners:
            if await self._lapsed(thread):
                name = self._name(thread.patient)
                return _reply(self._staff.text("practitioner.thread_lapsed", patient=name))
            return await self._from_clinic(who, thread, text)
        if not as_patient or await self._lapsed(thread):
            return None
        return await self._from_patient(thread.patient, thread, text)

    async def _lapsed(self, thread: Thread) -> bool:
        """Closes a conversation that has had no message for THREAD_LAPSES."""
        if utc_now() - thread.last_message_at < THREAD_LAPSES:
            return False
        await self._storage.close_thread(thread.id)
        return True

    async def _from_clinic(self, who: Who, thread: Thread, text: str) -> Outcome:
        patient = thread.patient
        name = self._name(patient)
        catalog = self._content.catalog(patient.language)
        html = catalog.text("thread.from_clinic", clinic=self._clinic, text=text)
        if _too_long(html):
            return _reply(self._staff.text("practitioner.thread_too_long"))
        message_id = await self._storage.add_thread_message(thread.id, Author.CLINIC, text)
        relayed = await self._relay(patient.chat_id, Reply(html))
        await self._storage.set_delivery(message_id, Delivery(relayed.value))
        await self._storage.audit(
            who.user_id, "messaged a patient", patient.telegram_user_id, f"thread {thread.id}"
        )
        if relayed is Relayed.DELIVERED:
            return _reply(self._staff.text("practitioner.thread_sent", patient=name))
        if relayed is Relayed.UNREACHABLE:
            await self._storage.mark_unreachable(patient.id)
            await self._storage.close_thread(thread.id)
            return _reply(self._staff.text("practitioner.thread_blocked", patient=name))
        return _reply(self._staff.text("practitioner.thread_failed"))

    async def _from_patient(self, patient: Patient, thread: Thread, text: str) -> Outcome:
        message_id = await self._storage.add_thread_message(thread.id, Author.PATIENT, text)
        name = self._name(patient)
        whole = self._staff.text("practitioner.thread_from_patient", patient=name, text=text)
        pieces = [whole]
        if _too_long(whole):  # passed on whole, after its own heading
            pieces = [
                self._staff.text("practitioner.thread_long_from_patient", patient=name),
                self._staff.text("practitioner.thread_text", text=text),
            ]
        keyboard = self._end_keyboard(thread)
        relayed = Relayed.DELIVERED
        for number, piece in enumerate(pieces, start=1):
            reply = Reply(piece, keyboard if number == len(pieces) else ())
            relayed = await self._relay(thread.practitioner_id, reply)
            if relayed is not Relayed.DELIVERED:
                break
        await self._storage.set_delivery(message_id, Delivery(relayed.value))
        catalog = self._content.catalog(patient.language)
        key = "thread.sent" if relayed is Relayed.DELIVERED else "thread.not_delivered"
        return _reply(catalog.text(key))


def _reply(html: str) -> Outcome:
    return Outcome(replies=[Reply(html)])


def _too_long(html: str) -> bool:
    """Whether Telegram would refuse this as one message (over 4096 visible characters)."""
    return utf16_len(parse_html(html).text) > rendering.MAX_MESSAGE
