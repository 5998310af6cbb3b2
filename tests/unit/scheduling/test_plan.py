from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scheduling.plan import (
    DEFAULT_PLAN,
    MessageKind,
    QuietHours,
    is_stale,
    parse_plan,
    parse_quiet_hours,
)

SEOUL = ZoneInfo("Asia/Seoul")


def test_default_plan() -> None:
    plan = parse_plan(DEFAULT_PLAN)
    assert [(e.kind, e.offset) for e in plan] == [
        (MessageKind.INTAKE, timedelta(hours=-72)),
        (MessageKind.REMINDER, timedelta(hours=-24)),
        (MessageKind.FOLLOWUP, timedelta(hours=24)),
        (MessageKind.FOLLOWUP, timedelta(days=7)),
    ]


@pytest.mark.parametrize(
    "bad", ["", "intake", "intake:-3w", "party:+1h", "reminder:-1h,reminder:-1h"]
)
def test_bad_plans_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_plan(bad)


def test_seconds_and_minutes_for_tests() -> None:
    assert [e.offset_seconds for e in parse_plan("intake:-5s, reminder:-2m,followup:10s")] == [
        -5,
        -120,
        10,
    ]


def test_quiet_hours_across_midnight_release_at_their_end() -> None:
    quiet = parse_quiet_hours("21:00-08:00")
    assert quiet == QuietHours(time(21), time(8))
    late = datetime(2026, 3, 2, 22, 30, tzinfo=SEOUL).astimezone(UTC)
    early = datetime(2026, 3, 3, 6, 0, tzinfo=SEOUL).astimezone(UTC)
    noon = datetime(2026, 3, 3, 12, 0, tzinfo=SEOUL).astimezone(UTC)
    morning = datetime(2026, 3, 3, 8, 0, tzinfo=SEOUL).astimezone(UTC)
    assert quiet.release(late, SEOUL) == morning
    assert quiet.release(early, SEOUL) == morning
    assert quiet.release(noon, SEOUL) == noon
    assert quiet.release(morning, SEOUL) == morning


def test_quiet_hours_within_a_day_and_off() -> None:
    quiet = parse_quiet_hours("12:00-13:30")
    assert quiet is not None
    lunch = datetime(2026, 3, 3, 12, 15, tzinfo=SEOUL)
    assert quiet.release(lunch, SEOUL) == datetime(2026, 3, 3, 13, 30, tzinfo=SEOUL)
    assert parse_quiet_hours("off") is None
    for bad in ("9-5", "25:00-08:00", "08:00-08:00"):
        with pytest.raises(ValueError):
            parse_quiet_hours(bad)


def test_only_followups_survive_the_appointment_start_and_not_for_long() -> None:
    start = datetime(2026, 3, 3, 10, tzinfo=UTC)
    due = start - timedelta(days=1)
    after = start + timedelta(minutes=1)
    assert is_stale(MessageKind.REMINDER, start, due, after)
    assert is_stale(MessageKind.INTAKE, start, due, start)
    assert not is_stale(MessageKind.REMINDER, start, due, start - timedelta(seconds=1))
    followup_due = start + timedelta(days=1)
    assert not is_stale(MessageKind.FOLLOWUP, start, followup_due, followup_due)
    assert not is_stale(MessageKind.FOLLOWUP, start, followup_due, followup_due + timedelta(days=2))
    assert is_stale(MessageKind.FOLLOWUP, start, followup_due, followup_due + timedelta(days=3))
