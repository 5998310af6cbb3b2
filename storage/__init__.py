"""Ashi's persistence: the only package that holds SQL."""

from storage.base import utc_now
from storage.database import Storage
from storage.records import (
    Answer,
    Appointment,
    AuditEntry,
    Consent,
    DueMessage,
    FollowupRecord,
    Intake,
    IntakeRecord,
    IntakeStatus,
    Patient,
    PlannedMessage,
    RedFlag,
    ScheduledMessage,
)

__all__ = [
    "Answer",
    "Appointment",
    "AuditEntry",
    "Consent",
    "DueMessage",
    "FollowupRecord",
    "Intake",
    "IntakeRecord",
    "IntakeStatus",
    "Patient",
    "PlannedMessage",
    "RedFlag",
    "ScheduledMessage",
    "Storage",
    "utc_now",
]
