"""Plain typed records returned by the storage layer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class IntakeStatus(StrEnum):
    """Lifecycle of an intake."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    RESTARTED = "restarted"


class AppointmentStatus(StrEnum):
    """Whether an appointment is still to happen."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Attendance(StrEnum):
    """The patient's answer to a reminder."""

    CONFIRMED = "confirmed"
    RESCHEDULE = "reschedule"


class Visit(StrEnum):
    """Whether the patient came, as the clinic recorded it."""

    ATTENDED = "attended"
    NO_SHOW = "no_show"


class MessageStatus(StrEnum):
    """Lifecycle of a scheduled message (an outbox row)."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a run, going out now
    SENT = "sent"
    SKIPPED = "skipped"  # not needed any more (unreachable, reminders off, intake done)
    DROPPED = "dropped"  # too late to be of use
    CANCELLED = "cancelled"  # its appointment was cancelled
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Patient:
    id: int
    telegram_user_id: int
    chat_id: int
    first_name: str | None
    username: str | None
    language: str
    created_at: datetime
    pending_payload: str | None = None
    reminders_enabled: bool = True
    unreachable_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Consent:
    given: bool
    text_version: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Intake:
    id: int
    patient_id: int
    status: IntakeStatus
    step: str
    urgent: bool
    start_payload: str | None
    content_version: str
    started_at: datetime
    completed_at: datetime | None
    paused: bool = False
    notified_at: datetime | None = None
    appointment_id: int | None = None
    reviewed_at: datetime | None = None
    # A returning patient's intake: its decisions so far by block (flow's HISTORY,
    # RED_FLAGS, SCREENING; None for an intake that asks everything), and the completed
    # intake it starts from (None once retention erased it).
    returning_from: int | None = None
    checks: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Carried:
    """An answer carried forward from an earlier intake, confirmed unchanged."""

    from_intake_id: int | None  # None once that intake is erased by retention
    confirmed_at: datetime


@dataclass(frozen=True, slots=True)
class Answer:
    question_id: str
    value: str
    answered_at: datetime
    carried: Carried | None = None  # carried forward from an earlier intake


@dataclass(frozen=True, slots=True)
class RedFlag:
    flag: str
    raised_at: datetime


@dataclass(frozen=True, slots=True)
class IntakeRecord:
    """An intake with everything the practitioner needs to read it."""

    intake: Intake
    patient: Patient
    answers: tuple[Answer, ...]
    red_flags: tuple[RedFlag, ...]

    def decoded_answers(self) -> dict[str, object]:
        """The answers' values decoded from JSON, by question id."""
        return {answer.question_id: json.loads(answer.value) for answer in self.answers}

    @property
    def carried(self) -> dict[str, Carried]:
        """The answers carried forward unchanged from an earlier intake, by question id."""
        return {a.question_id: a.carried for a in self.answers if a.carried is not None}


@dataclass(frozen=True, slots=True)
class Appointment:
    id: int
    patient_id: int | None
    name: str | None
    starts_at: datetime
    note: str | None
    link_token: str | None
    external_id: str | None
    status: AppointmentStatus
    attendance: Attendance | None
    visit: Visit | None


@dataclass(frozen=True, slots=True)
class ScheduledMessage:
    """A row of the outbox."""

    id: int
    appointment_id: int
    kind: str  # intake | reminder | followup | moved
    offset_seconds: int
    due_at: datetime
    status: MessageStatus
    attempts: int
    sent_at: datetime | None
    outcome: str | None
    step: str | None


@dataclass(frozen=True, slots=True)
class DueMessage:
    """A claimed outbox row with what is needed to send it."""

    message: ScheduledMessage
    appointment: Appointment
    patient: Patient


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    """One message to schedule for a new appointment."""

    kind: str
    offset_seconds: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class FollowupRecord:
    """A sent follow-up check-in and the patient's answers to it."""

    appointment: Appointment
    patient: Patient
    message: ScheduledMessage
    answers: dict[str, object]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what to which record, and when. An erased patient is named by pseudonym
    (`actor_key`, `subject_key`) and their Telegram id is None."""

    at: datetime
    actor: int | None
    action: str
    subject: int | None
    detail: str | None
    actor_key: str | None = None
    subject_key: str | None = None


class Author(StrEnum):
    """Who wrote a message of a thread."""

    CLINIC = "clinic"
    PATIENT = "patient"


class Delivery(StrEnum):
    """Whether a thread message reached the other side."""

    SENDING = "sending"
    DELIVERED = "delivered"
    UNREACHABLE = "unreachable"  # blocked the bot, or never started it
    FAILED = "failed"  # Telegram did not take it this time


@dataclass(frozen=True, slots=True)
class Thread:
    """A conversation between one practitioner and one patient through the bot."""

    id: int
    patient: Patient
    practitioner_id: int
    opened_at: datetime
    last_message_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """What one side of a thread wrote, and whether it reached the other."""

    id: int
    thread_id: int
    practitioner_id: int
    author: Author
    text: str
    written_at: datetime
    delivery: Delivery


@dataclass(frozen=True, slots=True)
class Score:
    """One answer to a measured question (pain now, the PSFS) at an intake or a follow-up,
    for a patient's course."""

    question_id: str
    telegram_user_id: int
    at: datetime  # when it was answered
    value: object  # decoded from JSON; None when skipped
    intake_id: int | None = None  # the intake it was given in, or
    followup_id: int | None = None  # the follow-up check-in (an outbox id)
