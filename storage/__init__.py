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
    Consent,
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
    Visit,
)

__all__ = [
    "DATABASE_ERRORS",
    "Answer",
    "Appointment",
    "AppointmentStatus",
    "Attendance",
    "AuditEntry",
    "Consent",
    "DatabaseLock",
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
    "Visit",
    "describe",
    "utc_now",
]
