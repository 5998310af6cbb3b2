"""Ashi's persistence: the only package that holds SQL."""

from storage.database import Storage, utc_now
from storage.records import Answer, Consent, Intake, IntakeRecord, IntakeStatus, Patient, RedFlag

__all__ = [
    "Answer",
    "Consent",
    "Intake",
    "IntakeRecord",
    "IntakeStatus",
    "Patient",
    "RedFlag",
    "Storage",
    "utc_now",
]
