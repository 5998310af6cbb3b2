"""A patient's course over three visits and two follow-ups, through Telegram: pain and the
activities (PSFS) at every intake and at the +7 d follow-up, judged against the first visit
(improved, no clear change, worse) in the practitioner's summaries and /flagged, drawn as a
chart for /patient and /progress, and in every export with its date."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from datetime import timedelta

import numpy
import pytest
from fhir.resources.R4B.bundle import Bundle
from PIL import Image

from bot.emulator.server import BotApiEmulator
from bot.scheduling.appointments import AppointmentBook, NewAppointment
from bot.scheduling.plan import parse_plan
from bot.settings import Settings
from storage import Storage, utc_now
from tests.e2e.conftest import (
    SCREENING_AND_RED_FLAGS,
    Person,
    Runner,
    consent,
    export_json,
    export_text,
    reachable_practitioner,
)

HANA = 6001
DATE = r"\d{4}-\d\d-\d\d"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, quiet_hours=None)


async def pain_and_safety(p: Person, pain: int) -> None:
    """The pain questions with this pain now, then No to every safety question."""
    await p.toggles("Neck & shoulders")
    await p.tap("Done", then="What brought the pain on?")
    await p.tap("Long sitting or desk work", then="How strong is the pain")
    await p.tap(str(pain), then="How long have you had this pain?")
    await p.tap("More than 12 weeks", then="hurts sharply when you press it")
    await p.tap("Yes", then="spreading in an arm or a leg")
    for _ in range(SCREENING_AND_RED_FLAGS):
        await p.tap("No")
    await p.sees("What does the pain make hard")


async def new_intake(p: Person, pain: int) -> None:
    """A later visit's intake (the short one: nothing changed, no red flag, the screening
    the same) with this pain now, up to the activities."""
    p.send("/start")
    await p.sees("You already completed an intake")
    await p.tap("Start a new intake", then="Has any of this changed since then?")
    await p.tap("Nothing changed", then="How strong is the pain")
    await p.tap(str(pain), then="Do you have any of these now?")
    await p.tap("None of these", then="Is all of this still the same?")
    await p.tap("No changes", then="What does the pain make hard")


async def name(p: Person, activity: str) -> None:
    """Type an activity and wait to be asked for its rating."""
    p.send(activity)
    await p.sees(f"{activity}: how well can you do it now?")


async def rate(p: Person, rating: int, then: str) -> None:
    await p.tap(str(rating), then=then)


async def confirm(p: Person, *, first: bool = False) -> None:
    """The activities done, then confirmed (a later visit's short intake takes a note at
    its summary, not as a question of its own)."""
    if first:
        await p.tap("Done", then="Anything else the practitioner should know")
        await p.tap("Skip", then="Please check your answers")
    else:
        await p.tap("Done", then="Please check your answers")
    await p.tap("Confirm", then="Thank you!")


async def followup_after(settings: Settings, plan: str, starts_in: timedelta) -> None:
    """An appointment of Hana's starting `starts_in` from now (negative: in the past) with
    one follow-up message as `plan` says, due a few seconds from now."""
    storage = await Storage.open(settings.db_path)
    try:
        book = AppointmentBook(storage, plan=parse_plan(plan))
        await book.book(NewAppointment(utc_now() + starts_in, telegram_user_id=HANA))
    finally:
        await storage.close()


async def a_second_later(emulator: BotApiEmulator) -> None:
    """Wait for the clock to pass the next whole second: times are stored to the second, and
    the order of a course's readings is the order of their times (real visits are days
    apart; these are not, unless they are made so)."""
    now = utc_now()
    await emulator.wait_for(lambda: utc_now() > now, 2.0)


async def summary_after(practitioner: Person, number: int) -> str:
    summary = await practitioner.sees(f"Intake #{number} ·")
    practitioner.seen = summary.message_id
    return summary.text


def png(message_bytes: bytes | None) -> Image.Image:
    assert message_bytes is not None
    image = Image.open(io.BytesIO(message_bytes))
    assert image.format == "PNG" and image.size == (1200, 800)
    pixels = numpy.asarray(image.convert("RGB")).reshape(-1, 3)
    assert len(numpy.unique(pixels, axis=0)) > 50  # drawn, not blank
    return image


async def test_three_visits_and_two_follow_ups_make_a_judged_and_charted_course(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    hana = Person(emulator, HANA, "Hana")
    async with bot():
        practitioner = await reachable_practitioner(emulator)

        # Visit 1: pain 7; two activities named, 3 and 4 (PSFS 3.5).
        await consent(hana)
        await pain_and_safety(hana, 7)
        await name(hana, "Carry the shopping")
        await rate(hana, 3, then="type another activity")
        await name(hana, "Lift my child")
        await rate(hana, 4, then="type another activity")
        await confirm(hana, first=True)
        first = await summary_after(practitioner, 1)
        assert "Since the first visit" not in first  # nothing to compare yet

        await a_second_later(emulator)
        # Follow-up a week on: pain 5 and the same activities rated again, quoted back.
        await followup_after(settings, "followup:+7d", timedelta(days=-7, seconds=2))
        await hana.sees("How sore is the treated area", within=15)
        for label in ("2", "Better", "No", "No", "No", "No"):
            await hana.tap(label)
        await hana.sees("How strong is the pain you came in with")
        await hana.tap("5", then="Carry the shopping: 3 out of 10 last time")
        await rate(hana, 5, then="Lift my child: 4 out of 10 last time")
        await rate(hana, 6, then="type another activity")
        await hana.tap("Done", then="Anything else you would like")
        await hana.tap("Skip", then="Thank you")

        await a_second_later(emulator)
        # Visit 2: pain 4 (improved); the activities 6 and 7 (PSFS 6.5, improved).
        await new_intake(hana, 4)
        await hana.sees("Carry the shopping: 5 out of 10 last time")
        await rate(hana, 6, then="Lift my child: 6 out of 10 last time")
        await rate(hana, 7, then="type another activity")
        await confirm(hana)
        await hana.sees(
            "Your pain: 7 out of 10 at your first visit", "4 now. Good to see it easing"
        )
        second = await summary_after(practitioner, 2)
        assert re.search(
            rf"• Pain: 7 on {DATE} → 4 on {DATE}: -3 points \(-43 %\), improved", second
        )
        assert "previous: 5 on" in second  # the follow-up's pain
        assert re.search(
            rf"• Activities \(PSFS\): 3\.5 on {DATE} → 6\.5 on {DATE}: \+3 points, improved", second
        )

        await a_second_later(emulator)
        # Follow-up the day after: soreness, no pain or activities (those are for a week on).
        await followup_after(settings, "followup:+1s", timedelta(seconds=1))
        checkin = await hana.sees("How sore is the treated area", within=15)
        assert "Question 1 of 7" in checkin.text
        for label in ("3", "About the same", "No", "No", "No", "No"):
            await hana.tap(label)
        await hana.tap("Skip", then="Thank you")

        await a_second_later(emulator)
        # Visit 3: pain 6 (no clear change); one activity dropped, one added (PSFS 1.5, worse).
        await new_intake(hana, 6)
        await hana.tap("No longer relevant", then="Lift my child: 7 out of 10 last time")
        await rate(hana, 1, then="type another activity")
        await name(hana, "Sleep through the night")
        await rate(hana, 2, then="type another activity")
        await confirm(hana)
        kind = await hana.sees("Your activities: 3.5 out of 10 at your first visit on", "1.5 now.")
        assert "talk it through with you" in kind.text and "worse" not in kind.text.lower()
        third = await summary_after(practitioner, 3)
        assert re.search(rf"→ 6 on {DATE}: -1 points \(-14 %\), no clear change", third)
        assert re.search(rf"→ 1\.5 on {DATE}: -2 points, ⚠️ worse", third)
        assert "previous: 6.5 on" in third

        practitioner.send("/flagged")
        flagged = await practitioner.sees("Clearly worse")
        assert "Hana (id 6001), Activities (PSFS): 3.5 on" in flagged.text
        assert "Hana (id 6001), Pain" not in flagged.text

        # /patient: the record with every score, and the chart (no name on it).
        practitioner.send(f"/patient {HANA}")
        record = await practitioner.sees("Patient record: Hana")
        assert record.text.count("pain ") >= 4 and "(check-in)" in record.text
        chart = await emulator.wait_for(
            lambda: next((m for m in practitioner.messages() if m.kind == "photo"), None)
        )
        assert f"id {HANA}" in chart.text and "Hana" not in chart.text
        png(chart.document)

        # /progress: the patient's own scores and the same chart.
        hana.send("/progress")
        mine = await hana.sees("Your scores at each visit")
        assert mine.text.count("pain ") == 4 and mine.text.count("your activities ") == 4
        own = await emulator.wait_for(
            lambda: next((m for m in hana.messages() if m.kind == "photo"), None)
        )
        png(own.document)

        # /mydata: the scores with their dates, in the patient's own file.
        hana.send("/mydata")
        readable = (await hana.sees("Everything stored about you")).text
        follow_up = readable[readable.index("Follow-up on") :]
        # A check-in's answers in the order they were asked.
        asked = ["Soreness now", "Pain compared", "Breathing problems", "Pain now", "Activities"]
        assert sorted(asked, key=follow_up.index) == asked
        document = await emulator.wait_for(
            lambda: next((m for m in hana.messages() if m.kind == "document"), None)
        )
        assert document.document is not None
        own_scores = json.loads(document.document)["scores"]
        assert [s["score"] for s in own_scores] == [7, 3.5, 5, 5.5, 4, 6.5, 6, 1.5]
        assert all(s["answered_at"] for s in own_scores)

    sent = [c for c in emulator.transcript if c.method == "sendPhoto"]
    assert len(sent) == 2 and all("photo" in c.params for c in sent)

    # Every score with its date, in every export.
    data = await export_json(settings)
    scores = [(s["measure"], s["score"], s["followup_id"] is not None) for s in data["scores"]]
    assert scores == [
        ("pain", 7.0, False),
        ("function", 3.5, False),
        ("pain", 5.0, True),
        ("function", 5.5, True),
        ("pain", 4.0, False),
        ("function", 6.5, False),
        ("pain", 6.0, False),
        ("function", 1.5, False),
    ]
    assert all(s["answered_at"] for s in data["scores"])
    rows = list(
        csv.DictReader(io.StringIO((await export_text(settings, "scores")).lstrip("\ufeff")))
    )
    assert [(r["measure"], r["score"]) for r in rows] == [(m, str(v)) for m, v, _ in scores]
    assert rows[-1]["activities"] == "Lift my child: 1; Sleep through the night: 2"
    bundle = json.loads(await export_text(settings, "fhir"))
    Bundle.model_validate(bundle)
    observations = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    ]
    assert len(observations) == 8
    urls = {e["fullUrl"] for e in bundle["entry"]}
    for observation in observations:
        assert observation["subject"]["reference"] in urls
        for source in observation.get("derivedFrom", []):
            assert source["reference"] in urls
    from_followup = [o for o in observations if "derivedFrom" not in o]
    assert len(from_followup) == 2 and all(o["identifier"] for o in from_followup)

    # /delete erases them with everything else.
    async with bot():
        hana.send("/delete")
        await hana.sees("This erases everything stored about you")
        await hana.tap("Yes, erase everything")
        await emulator.wait_for(lambda: "has been erased" in hana.messages()[-1].text)
    assert (await export_json(settings))["scores"] == []
