"""A Korean-speaking patient goes through everything in Korean; /language switches."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bot.content import Content
from bot.emulator.server import BotApiEmulator
from bot.intake import views
from bot.questionnaire import Group
from bot.scheduling.appointments import AppointmentBook, NewAppointment
from bot.scheduling.plan import parse_plan
from bot.settings import Settings
from bot.telegram_html import parse_html
from storage import Storage, utc_now
from tests.e2e.conftest import Person, Runner, stored_records
from tests.support.questionnaire import questions_in

KO = Content.load().catalog("ko")
EN = Content.load().catalog("en")


def visible(html: str) -> str:
    """What a person sees of a text: the first line, tags removed."""
    return parse_html(html).text.strip().split("\n")[0]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    plan = parse_plan("intake:-6s,reminder:-4s,followup:+1s")
    return dataclasses.replace(settings, reminder_plan=plan, quiet_hours=None)


async def test_a_korean_patient_is_served_in_korean_throughout(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    patient = Person(emulator, 7001, "Seo-yeon", language_code="ko")
    async with bot():
        commands = [c for c in emulator.transcript if c.method == "setMyCommands"]
        korean_menu = [c for c in commands if c.params.get("language_code") == "ko"]
        assert korean_menu and korean_menu[0].params["commands"][0]["description"] == KO.text(
            "commands.start"
        )

        patient.send("/start")
        await patient.sees(visible(views.welcome(KO, "Ashi Test Clinic").html))
        await patient.tap(KO.text("consent.agree_button"), then=visible(KO.prompt("areas")))
        await patient.toggles(KO.option("areas", "lower_back_hips"))
        await patient.tap(KO.text("flow.done_button"), then=visible(KO.prompt("cause")))
        await patient.tap(KO.option("cause", "exercise"), then=visible(KO.prompt("intensity")))
        await patient.tap("6", then=visible(KO.prompt("duration")))
        await patient.tap(KO.option("duration", "w1_6"), then=visible(KO.prompt("ashi_point")))
        await patient.tap(KO.option("ashi_point", "yes"))
        for q in questions_in(Group.RED_FLAG) + questions_in(Group.SCREENING):
            await patient.sees(visible(KO.prompt(q.id)))
            await patient.tap(KO.option(q.id, "no"))
        # The activities in the patient's own words, in Korean.
        await patient.sees(visible(KO.prompt("psfs")))
        patient.send("계단 오르기")
        await patient.sees(visible(KO.text("activities.rate", name="계단 오르기")))
        await patient.tap("4", then=visible(KO.text("activities.another")))
        await patient.tap(KO.text("flow.done_button"), then=visible(KO.prompt("notes")))
        await patient.tap(KO.text("flow.skip_button"), then=visible(KO.text("summary.heading")))
        await patient.sees("계단 오르기: 4")
        await patient.tap(KO.text("summary.confirm_button"))
        await patient.sees(KO.section("lower_back_hips").title)
        await patient.sees(KO.section("exercise_tightness").title)
        await patient.sees(visible(KO.raw("guide.expect.twitch")))

        storage = await Storage.open(settings.db_path)
        try:
            book = AppointmentBook(storage, plan=settings.reminder_plan)
            starts = utc_now() + timedelta(seconds=7)
            await book.book(NewAppointment(starts, telegram_user_id=patient.id))
        finally:
            await storage.close()
        heading = visible(KO.text("appointments.reminder", place="-", date="-", time="-"))
        reminder = await patient.sees(heading, within=8)
        await patient.tap(KO.text("appointments.attend_button"))
        followup = await patient.sees(visible(KO.prompt("fu_soreness")), within=10)
        assert followup.message_id > reminder.message_id
        await patient.tap("3")
        await patient.sees(visible(KO.prompt("fu_compared")))

    everything = "\n".join(m.text for m in patient.messages())
    assert EN.prompt("areas").replace("<b>", "").replace("</b>", "") not in everything
    # Stored answers are language-neutral codes.
    [record] = await stored_records(settings)
    assert record.decoded_answers()["areas"] == ["lower_back_hips"]
    assert record.patient.language == "ko"


async def test_switching_language_mid_intake_keeps_the_answers(
    emulator: BotApiEmulator, bot: Runner, settings: Settings
) -> None:
    patient = Person(emulator, 7002, "Alex", language_code="en")
    async with bot():
        patient.send("/start")
        await patient.sees("Do you agree")
        await patient.tap("I agree", then="Where do you feel pain?")
        await patient.toggles("Arms")
        await patient.tap("Done", then="What brought the pain on?")
        patient.send("/language")
        await patient.sees("Which language would you like me to use?")
        await patient.tap(KO.text("language.name_button"), then=visible(KO.prompt("cause")))
        assert visible(KO.text("language.changed")) in patient.messages()[-2].text
        await patient.tap(KO.option("cause", "injury"), then=visible(KO.prompt("intensity")))
    async with bot():
        patient.send("/start")  # the choice outlives a restart
        await patient.sees(visible(KO.text("flow.resume")))
    [record] = await stored_records(settings)
    assert record.decoded_answers() == {"areas": ["arms"], "cause": "injury"}
    assert record.patient.language == "ko"
