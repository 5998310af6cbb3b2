"""Ashi's persistence: the only package that holds SQL."""

from storage.base import utc_now
from storage.database import Storage
from storage.errors import DATABASE_ERRORS, StorageError, describe
from storage.lock import DatabaseLock
from storage.records import (
    Answer,
    Appointment,
    AppointmentStatus,
    Attendance,
    AuditEntry,
    Author,
    Consent,
    Delivery,
    DueMessage,
    FollowupRecord,
    Intake,
    IntakeRecord,
    IntakeStatus,
    MessageStatus,
    Patient,
    PlannedMessage,
    RedFlag,
    ScheduledMessage,
    Thread,
    ThreadMessage,
    Visit,
)

__all__ = [
    "DATABASE_ERRORS",
    "Answer",
    "Appointment",
    "AppointmentStatus",
    "Attendance",
    "AuditEntry",
    "Author",
    "Consent",
    "DatabaseLock",
    "Delivery",
    "DueMessage",
    "FollowupRecord",
    "Intake",
    "IntakeRecord",
    "IntakeStatus",
    "MessageStatus",
    "Patient",
    "PlannedMessage",
    "RedFlag",
    "ScheduledMessage",
    "Storage",
    "StorageError",
    "Thread",
    "ThreadMessage",
    "Visit",
    "describe",
    "utc_now",
]
