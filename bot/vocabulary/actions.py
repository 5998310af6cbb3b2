"""Button actions and their compact callback-data encoding (at most 64 bytes).

Each verb names what its number refers to (`Subject`); the number is read through the
property of that subject (`intake_id`, `appointment_id`, ...), which refuses any other verb,
so an outbox id can never be taken for an intake id.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

MAX_CALLBACK_BYTES = 64
MAX_ID = 2**63 - 1  # ids are SQLite integers; a larger one in forged data is no id of ours


class Subject(Enum):
    """What the number in an action refers to."""

    NONE = "none"
    INTAKE = "intake"
    APPOINTMENT = "appointment"
    OUTBOX = "outbox"  # a scheduled message (a follow-up check-in)
    PATIENT = "patient"  # a patient's Telegram user id
    PAGE = "page"  # a page of /intakes, from 0
    THREAD = "thread"  # a conversation between a practitioner and a patient


class Verb(StrEnum):
    CONSENT = "c"  # code: yes / no
    ANSWER = "a"  # a one-tap answer to `question`
    TOGGLE = "t"  # add or remove `code` in a multi-select answer
    DONE = "d"  # finish a multi-select answer
    SKIP = "s"  # skip an optional question
    SUMMARY = "y"  # code: ok / again
    RESUME = "r"  # code: go / again
    NEW = "n"  # start a new intake after a completed one
    DELETE = "x"  # code: yes / no
    LANGUAGE = "l"  # code: a content language
    APPOINTMENT_INTAKE = "i"  # start the intake for an appointment
    ATTEND = "v"  # code: yes / reschedule
    FOLLOWUP_ANSWER = "f"  # a one-tap follow-up answer
    FOLLOWUP_SKIP = "g"  # skip the optional follow-up note
    OPEN = "o"  # practitioners: open a patient's record
    OPEN_INTAKE = "e"  # practitioners: open a patient's record at one intake
    REVIEW = "w"  # practitioners: mark an intake reviewed
    PAGE = "p"  # practitioners: a page of /intakes
    VISIT = "k"  # practitioners: code attended / no_show for an appointment
    MESSAGE = "m"  # practitioners: write to a patient through the bot
    END_THREAD = "h"  # practitioners: end a conversation with a patient
    CHANGE = "u"  # from the summary: `question` to change (none: which one?; code back)
    CHECK = "b"  # a returning intake: `question` a block (flow.Block), code its decision

    @property
    def subject(self) -> Subject:
        """What this verb's number refers to."""
        return SUBJECTS.get(self, Subject.NONE)


SUBJECTS = {
    Verb.ANSWER: Subject.INTAKE,
    Verb.TOGGLE: Subject.INTAKE,
    Verb.DONE: Subject.INTAKE,
    Verb.SKIP: Subject.INTAKE,
    Verb.SUMMARY: Subject.INTAKE,
    Verb.CHANGE: Subject.INTAKE,
    Verb.CHECK: Subject.INTAKE,
    Verb.RESUME: Subject.INTAKE,
    Verb.REVIEW: Subject.INTAKE,
    Verb.OPEN_INTAKE: Subject.INTAKE,
    Verb.APPOINTMENT_INTAKE: Subject.APPOINTMENT,
    Verb.ATTEND: Subject.APPOINTMENT,
    Verb.VISIT: Subject.APPOINTMENT,
    Verb.FOLLOWUP_ANSWER: Subject.OUTBOX,
    Verb.FOLLOWUP_SKIP: Subject.OUTBOX,
    Verb.OPEN: Subject.PATIENT,
    Verb.MESSAGE: Subject.PATIENT,
    Verb.END_THREAD: Subject.THREAD,
    Verb.PAGE: Subject.PAGE,
}


@dataclass(frozen=True, slots=True)
class Action:
    """A button press: the verb, the number its subject needs, the question and the code."""

    verb: Verb
    ref: int = 0
    question: str = ""
    code: str = ""

    def __post_init__(self) -> None:
        if self.verb.subject is Subject.NONE and self.ref:
            raise ValueError(f"{self.verb.name} carries no number")

    def _of(self, subject: Subject) -> int:
        if self.verb.subject is not subject:
            raise ValueError(f"{self.verb.name} carries no {subject.value} id")
        return self.ref

    @property
    def intake_id(self) -> int:
        """The intake a questionnaire, summary, resume or review button belongs to."""
        return self._of(Subject.INTAKE)

    @property
    def appointment_id(self) -> int:
        """The appointment an invitation or reminder button belongs to."""
        return self._of(Subject.APPOINTMENT)

    @property
    def outbox_id(self) -> int:
        """The follow-up message a follow-up answer belongs to."""
        return self._of(Subject.OUTBOX)

    @property
    def telegram_user_id(self) -> int:
        """The patient whose record an Open button shows, or a Message button writes to."""
        return self._of(Subject.PATIENT)

    @property
    def thread_id(self) -> int:
        """The conversation an End button closes."""
        return self._of(Subject.THREAD)

    @property
    def page(self) -> int:
        """The page of /intakes a paging button shows."""
        return self._of(Subject.PAGE)

    def encode(self) -> str:
        """The callback data for this action."""
        data = f"{self.verb}:{self.ref}:{self.question}:{self.code}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def decode(cls, data: str) -> Action | None:
        """The action in callback data, or None when it is not one of ours."""
        parts = data.split(":")
        if len(parts) != 4 or not (parts[1].isascii() and parts[1].isdigit()):
            return None
        ref = int(parts[1])
        try:
            verb = Verb(parts[0])
        except ValueError:
            return None
        if ref > MAX_ID or (verb.subject is Subject.NONE and ref):
            return None
        return cls(verb, ref, parts[2], parts[3])
