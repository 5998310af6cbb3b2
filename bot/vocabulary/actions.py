"""Button actions and their compact callback-data encoding (at most 64 bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_CALLBACK_BYTES = 64
MAX_ID = 2**63 - 1  # ids are SQLite integers; a larger one in forged data is no id of ours


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
    # Scheduled messages: intake_id holds the appointment or outbox id instead.
    APPOINTMENT_INTAKE = "i"  # start the intake for an appointment
    ATTEND = "v"  # code: yes / reschedule
    FOLLOWUP_ANSWER = "f"  # a one-tap follow-up answer
    FOLLOWUP_SKIP = "g"  # skip the optional follow-up note
    # Practitioners only: intake_id holds a patient's Telegram id, an intake id or a page.
    OPEN = "o"  # open a patient's record
    REVIEW = "w"  # mark an intake reviewed
    PAGE = "p"  # a page of /intakes


@dataclass(frozen=True, slots=True)
class Action:
    verb: Verb
    intake_id: int = 0
    question: str = ""
    code: str = ""

    def encode(self) -> str:
        """The callback data for this action."""
        data = f"{self.verb}:{self.intake_id}:{self.question}:{self.code}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def decode(cls, data: str) -> Action | None:
        """The action in callback data, or None when it is not one of ours."""
        parts = data.split(":")
        if len(parts) != 4 or not (parts[1].isascii() and parts[1].isdigit()):
            return None
        if int(parts[1]) > MAX_ID:
            return None
        try:
            verb = Verb(parts[0])
        except ValueError:
            return None
        return cls(verb, int(parts[1]), parts[2], parts[3])
