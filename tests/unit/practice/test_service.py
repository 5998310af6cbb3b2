"""What practitioners see and can do in Telegram (PracticeService), without Telegram:
commands, record buttons and paging, who is refused, and what each leaves in the audit."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest

from bot.practice import views
from bot.practice.service import PracticeService
from bot.scheduling.appointments import AppointmentBook, NewAppointment
from bot.scheduling.checkins import CheckIns
from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Outcome, Reply
from bot.vocabulary.people import Who
from storage import Attendance, AuditEntry, Storage, Visit, utc_now
from tests.conftest import CLINIC_TZ, PRACTITIONER
from tests.support.conversation import Conversation
from tests.support.followups import sent_followup
from tests.support.patient_flow import PAT, completed_intake, data_for, last_keyboard, texts
from tests.unit.practice.conftest import Exports

DOC = Who(user_id=PRACTITIONER, chat_id=PRACTITIONER, first_name="Doc", language_code="en")
STRANGER = Who(user_id=777, chat_id=777, first_name="Eve", username="eve", language_code="en")
NOT_AVAILABLE = "Sorry, this is not available."
VISIT_UNKNOWN = "That appointment is not scheduled any more."
USAGE = (
    "Send /patient followed by the patient's Telegram id or name,"
    " for example /patient 123456789 or /patient Mina."
)
NO_MATCH = "No patient has that name (first name, username or the name of a booking)."


def patient(n: int, name: str) -> Who:
    return Who(user_id=n, chat_id=n, first_name=name, username=name.lower(), language_code="en")


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The moment the service takes as now (the agenda's day, the export's date), frozen."""
    moment = utc_now()
    monkeypatch.setattr("bot.practice.service.utc_now", lambda: moment)
    return moment


# The patient side: intakes through the real conversation ---------------------------------


async def tap(service: Conversation, who: Who, outcome: Outcome, label: str) -> Outcome:
    return await service.button(who, data_for(last_keyboard(outcome), label))


async def to_safety_questions(service: Conversation, who: Who, pain: int = 6) -> Outcome:
    outcome = await service.start(who)
    for label in (
        "I agree",
        "Neck & shoulders",
        "Done",
        "Long sitting or desk work",
        str(pain),
        "More than 12 weeks",
        "Yes",
    ):
        outcome = await tap(service, who, outcome, label)
    return outcome


async def answer_safety(
    service: Conversation, who: Who, outcome: Outcome, *, yes_to: str | None = None
) -> Outcome:
    """No to every screening and red-flag question (Yes to the one containing `yes_to`),
    the activities skipped, up to the notes."""
    while "Anything else the practitioner should know" not in texts(outcome):
        assert re.search(r"Question \d+ of \d+", texts(outcome)), texts(outcome)
        label = "Yes" if yes_to and yes_to in texts(outcome) else "No"
        if "What does the pain make hard" in texts(outcome):
            label = "Skip"
        outcome = await tap(service, who, outcome, label)
    return outcome


async def complete(
    service: Conversation, storage: Storage, who: Who, *, pain: int = 6, urgent: bool = False
) -> int:
    """A confirmed intake for `who` (with a chest-pain red flag if `urgent`); its id."""
    outcome = await to_safety_questions(service, who, pain)
    outcome = await answer_safety(service, who, outcome, yes_to="chest pain" if urgent else None)
    outcome = await tap(service, who, outcome, "Skip")
    await tap(service, who, outcome, "Confirm")
    return await latest_intake(storage, who)


async def in_progress(
    service: Conversation, storage: Storage, who: Who, *, urgent: bool = False
) -> int:
    """An intake left open in the safety questions (after a chest-pain Yes if `urgent`)."""
    outcome = await to_safety_questions(service, who)
    if urgent:
        while "chest pain" not in texts(outcome):
            outcome = await tap(service, who, outcome, "No")
        await tap(service, who, outcome, "Yes")
    return await latest_intake(storage, who)


async def latest_intake(storage: Storage, who: Who) -> int:
    records = await storage.intake_records(telegram_user_id=who.user_id, newest_first=True)
    assert records, f"no intake for {who.user_id}"
    return records[0].intake.id


# Reading what the practitioner sees --------------------------------------------------------


def only_reply(outcome: Outcome) -> Reply:
    [reply] = outcome.replies
    assert outcome.toast is None and not outcome.documents and not outcome.notifications
    return reply


def listed(reply: Reply) -> list[int]:
    """The intake ids in a list, top to bottom."""
    return [int(m) for m in re.findall(r"^#(\d+) ", reply.html, flags=re.MULTILINE)]


def buttons(reply: Reply) -> dict[str, str]:
    return {b.label: b.data for row in reply.keyboard for b in row}


async def last_audit(storage: Storage) -> AuditEntry:
    entries = await storage.audit_entries()
    assert entries, "nothing audited"
    return entries[-1]


async def actions(storage: Storage) -> list[str]:
    return [e.action for e in await storage.audit_entries()]


# Strangers ---------------------------------------------------------------------------------

COMMANDS = [
    ("today", []),
    ("upcoming", []),
    ("intakes", []),
    ("flagged", []),
    ("patient", [str(PAT.user_id)]),
    ("export", []),
]


@pytest.mark.parametrize("who", [STRANGER, PAT], ids=["stranger", "the patient"])
@pytest.mark.parametrize(("name", "args"), COMMANDS, ids=[c for c, _ in COMMANDS])
async def test_a_non_practitioner_is_refused_every_command_and_it_is_audited(
    service: Conversation,
    storage: Storage,
    practice: PracticeService,
    exports: Exports,
    who: Who,
    name: str,
    args: list[str],
) -> None:
    await completed_intake(service)
    before = len(await storage.audit_entries())

    outcome = await practice.command(who, name, args)

    reply = only_reply(outcome)
    assert reply == Reply(NOT_AVAILABLE)  # no keyboard, no data
    assert "Mina" not in reply.html
    assert exports.calls == []
    entries = await storage.audit_entries()
    assert len(entries) == before + 1
    refused = entries[-1]
    assert (refused.actor, refused.action, refused.subject) == (who.user_id, "refused", None)
    assert refused.detail == f"/{name}"


async def test_a_non_practitioner_is_refused_every_button_and_changes_nothing(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    await completed_intake(service)
    intake_id = await latest_intake(storage, PAT)
    presses = [
        Action(Verb.OPEN, PAT.user_id).encode(),
        Action(Verb.REVIEW, intake_id).encode(),
        Action(Verb.PAGE, 0).encode(),
        Action(Verb.PAGE, 1).encode(),
        Action(Verb.VISIT, 1, "", "no_show").encode(),
    ]
    for who in (STRANGER, PAT):
        for data in presses:
            outcome = await practice.button(who, data)
            assert outcome == Outcome(toast=NOT_AVAILABLE), data
            refused = await last_audit(storage)
            assert (refused.actor, refused.action, refused.subject) == (
                who.user_id,
                "refused",
                None,
            )
            assert refused.detail == f"button {data!r}"
    # The stranger's REVIEW press did not mark it: it is still the practitioner's to review.
    record = await storage.intake_record(intake_id)
    assert record is not None and record.intake.reviewed_at is None
    assert "viewed a record" not in await actions(storage)
    assert "viewed /intakes" not in await actions(storage)


async def test_forged_button_data_is_refused_even_for_a_practitioner(
    storage: Storage, practice: PracticeService
) -> None:
    forged = "o:abc::" + "x" * 100
    outcome = await practice.button(DOC, forged)
    assert outcome == Outcome(toast=NOT_AVAILABLE)
    refused = await last_audit(storage)
    assert (refused.actor, refused.action) == (PRACTITIONER, "refused")
    assert refused.detail == f"button {forged[:64]!r}"  # cut to the size of callback data


async def test_a_non_practitioner_pressing_a_patient_button_is_refused(
    storage: Storage, practice: PracticeService
) -> None:
    # A verb of the patients' side is no practitioner button either, but a stranger gets
    # the same refusal whatever the verb.
    outcome = await practice.button(STRANGER, Action(Verb.CONSENT, code="yes").encode())
    assert outcome == Outcome(toast=NOT_AVAILABLE)
    assert (await last_audit(storage)).action == "refused"


# /intakes and paging -----------------------------------------------------------------------


async def test_intakes_are_listed_newest_first_a_page_at_a_time(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    people = [patient(1000 + n, f"P{n}") for n in range(views.PAGE_SIZE + 1)]
    ids = [await complete(service, storage, who) for who in people[: views.PAGE_SIZE]]

    # Exactly one page: no paging buttons.
    full = only_reply(await practice.command(DOC, "intakes", []))
    assert full.html.startswith("<b>Recent intakes</b>, page 1\n")
    assert listed(full) == ids[::-1]
    assert "Older" not in buttons(full) and "Newer" not in buttons(full)

    ids.append(await complete(service, storage, people[-1]))
    first = only_reply(await practice.command(DOC, "intakes", []))
    assert listed(first) == ids[::-1][: views.PAGE_SIZE]
    assert ids[0] not in listed(first)
    assert f"#{ids[-1]} " in first.html and "P8 @p8 (id 1008): completed" in first.html
    labels = buttons(first)
    assert labels["Older"] == Action(Verb.PAGE, 1).encode()
    assert "Newer" not in labels
    assert labels[f"Open record #{ids[-1]}"] == Action(Verb.OPEN_INTAKE, ids[-1]).encode()
    assert labels[f"Mark reviewed #{ids[-1]}"] == Action(Verb.REVIEW, ids[-1]).encode()

    second = only_reply(await practice.button(DOC, labels["Older"]))
    assert second.html.startswith("<b>Recent intakes</b>, page 2\n")
    assert listed(second) == [ids[0]]
    assert "P0 @p0 (id 1000)" in second.html
    assert buttons(second)["Newer"] == Action(Verb.PAGE, 0).encode()
    assert "Older" not in buttons(second)

    back = only_reply(await practice.button(DOC, buttons(second)["Newer"]))
    assert back == first

    beyond = only_reply(await practice.button(DOC, Action(Verb.PAGE, 5).encode()))
    assert beyond.html == "<b>Recent intakes</b>, page 6\nNothing here."
    assert buttons(beyond) == {"Newer": Action(Verb.PAGE, 4).encode()}

    views_ = [
        (e.actor, e.subject, e.detail)
        for e in await storage.audit_entries()
        if e.action == "viewed /intakes"
    ]
    assert views_ == [
        (PRACTITIONER, None, "page 1"),
        (PRACTITIONER, None, "page 1"),
        (PRACTITIONER, None, "page 2"),
        (PRACTITIONER, None, "page 1"),
        (PRACTITIONER, None, "page 6"),
    ]


async def test_intakes_with_nothing_stored_says_so(
    storage: Storage, practice: PracticeService
) -> None:
    reply = only_reply(await practice.command(DOC, "intakes", []))
    assert reply == Reply("<b>Recent intakes</b>, page 1\nNothing here.")
    assert await actions(storage) == ["viewed /intakes"]


async def test_a_huge_page_number_is_an_empty_page_not_an_error(
    practice: PracticeService,
) -> None:
    data = Action(Verb.PAGE, 2**63 - 1).encode()
    reply = only_reply(await practice.button(DOC, data))
    assert "Nothing here." in reply.html


# /flagged ----------------------------------------------------------------------------------


async def test_flagged_lists_only_urgent_or_unreviewed_intakes(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    unreviewed = await complete(service, storage, patient(2001, "Ann"))
    reviewed = await complete(service, storage, patient(2002, "Ben"))
    urgent_reviewed = await complete(service, storage, patient(2003, "Cai"), urgent=True)
    open_plain = await in_progress(service, storage, patient(2004, "Dee"))
    open_urgent = await in_progress(service, storage, patient(2005, "Eli"), urgent=True)
    for intake_id in (reviewed, urgent_reviewed):
        assert await practice.button(DOC, Action(Verb.REVIEW, intake_id).encode()) == Outcome(
            toast="Marked reviewed."
        )

    reply = only_reply(await practice.command(DOC, "flagged", []))

    assert reply.html.startswith("<b>Needs attention</b>: urgent or not yet reviewed\n")
    assert listed(reply) == [open_urgent, urgent_reviewed, unreviewed]
    assert reviewed not in listed(reply) and open_plain not in listed(reply)
    assert "Cai @cai (id 2003): completed, 🚨 urgent, ✔ reviewed" in reply.html
    assert "Eli @eli (id 2005): in progress, 🚨 urgent" in reply.html
    # Only what still needs it has a review button.
    review = {label for label in buttons(reply) if label.startswith("Mark reviewed")}
    assert review == {f"Mark reviewed #{unreviewed}"}
    audited = await last_audit(storage)
    assert (audited.actor, audited.action, audited.subject) == (
        PRACTITIONER,
        "viewed /flagged",
        None,
    )


async def test_flagged_lists_recent_check_ins_that_needed_attention(
    service: Conversation, storage: Storage, practice: PracticeService, checkins: CheckIns
) -> None:
    sore, calm = patient(2101, "Gus"), patient(2102, "Hal")
    _, outcome = await sent_followup(checkins, storage, sore)
    outcome = await tap(service, sore, outcome, "8")  # high soreness alerts
    await tap(service, sore, outcome, "Worse")
    _, outcome = await sent_followup(checkins, storage, calm)
    await tap(service, calm, outcome, "2")

    intakes, check_ins = (await practice.command(DOC, "flagged", [])).replies

    assert intakes.html.startswith("<b>Needs attention</b>")
    assert check_ins.html.split("\n")[0] == (
        "<b>Check-ins that needed attention</b> in the last 14 days"
    )
    lines = check_ins.html.split("\n")[1:]
    assert lines[0].endswith(" a patient (id 2101):")  # the check-in came before any /start
    assert lines[1:] == ["• Soreness now (0-10): 8", "• Pain compared with before: Worse"]
    assert "2102" not in check_ins.html
    assert buttons(check_ins) == {"Open record: 2101": Action(Verb.OPEN, 2101).encode()}


async def test_flagged_with_nothing_to_do_says_so(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    await in_progress(service, storage, PAT)
    reply = only_reply(await practice.command(DOC, "flagged", []))
    assert reply == Reply("<b>Needs attention</b>: urgent or not yet reviewed\nNothing here.", ())


# /patient and opening a record -------------------------------------------------------------


@pytest.mark.parametrize("args", [[], ["a"], [" "]], ids=["none", "one letter", "blank"])
async def test_patient_without_an_id_or_a_name_gets_the_usage(
    service: Conversation,
    storage: Storage,
    practice: PracticeService,
    args: list[str],
) -> None:
    await completed_intake(service)
    outcome = await practice.command(DOC, "patient", args)
    assert only_reply(outcome) == Reply(USAGE)
    assert "viewed a record" not in await actions(storage)


@pytest.mark.parametrize(
    "args",
    [["abc"], ["42", "43"], ["-42"], ["4.2"], ["\uff14\uff12"], ["%"], ["_"], ["\\"]],
    ids=["letters", "two", "negative", "decimal", "fullwidth", "percent", "underscore", "bslash"],
)
async def test_a_name_nobody_has_finds_nobody(
    service: Conversation,
    storage: Storage,
    practice: PracticeService,
    args: list[str],
) -> None:
    await completed_intake(service)  # Mina @mina
    outcome = await practice.command(DOC, "patient", [*args, *args])  # at least two characters
    assert only_reply(outcome) == Reply(NO_MATCH)
    assert "viewed a record" not in await actions(storage)
    assert (await last_audit(storage)).action == "searched patients by name"


async def test_patient_by_name_opens_one_match_and_lists_several(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    await completed_intake(service)  # Mina @mina
    await complete(service, storage, patient(3101, "Minho"))
    await complete(service, storage, patient(3102, "Kim"))
    book = AppointmentBook(storage, plan=())
    await book.book(NewAppointment(utc_now(), telegram_user_id=3102, name="Kim Minseo"))

    one = await practice.command(DOC, "patient", ["@mina"])
    assert "Mina @mina (id 42)" in one.replies[0].html
    audited = await last_audit(storage)
    assert (audited.action, audited.subject) == ("viewed a record", PAT.user_id)

    several = only_reply(await practice.command(DOC, "patient", ["MIN"]))
    assert several.html == "3 patients match: open one."
    assert [[b.label for b in row] for row in several.keyboard] == [
        ["Kim @kim (id 3102)"],  # by the name of a booking
        ["Mina @mina (id 42)"],
        ["Minho @minho (id 3101)"],
    ]
    assert several.keyboard[1][0].data == Action(Verb.OPEN, PAT.user_id).encode()


async def test_patient_id_shows_the_record_and_is_audited(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    await completed_intake(service)
    intake_id = await latest_intake(storage, PAT)

    outcome = await practice.command(DOC, "patient", [str(PAT.user_id)])

    summary, *record = outcome.replies
    # Headed for what it shows: this intake, its status, whose it is.
    assert summary.html.startswith(f"<b>Intake #{intake_id}</b> (completed): Mina @mina (id 42)")
    assert "Pain now (0-10): 6" in summary.html
    assert "Link code: clinic_ref-1" in summary.html
    assert f"Intake #{intake_id} · started " in summary.html
    assert buttons(summary) == {
        "Open record": Action(Verb.OPEN, PAT.user_id).encode(),
        "Mark reviewed": Action(Verb.REVIEW, intake_id).encode(),
        "Message patient": Action(Verb.MESSAGE, PAT.user_id).encode(),
    }
    history = "\n".join(r.html for r in record)
    assert history.startswith("<b>Patient record</b>: Mina @mina (id 42)")
    assert re.search(rf"• #{intake_id} started [\d-]+ [\d:]+: completed$", history, re.M)
    assert "<b>Scores over time</b>" in history and "pain 6/10 (intake)" in history
    assert "<b>Follow-ups</b>" not in history
    # The chart: the Telegram id in the caption, no name.
    [chart] = outcome.photos
    assert chart.data.startswith(b"\x89PNG")
    assert "id 42" in chart.caption and "Mina" not in chart.caption

    viewed = await last_audit(storage)
    assert (viewed.actor, viewed.action, viewed.subject) == (
        PRACTITIONER,
        "viewed a record",
        PAT.user_id,
    )


async def test_the_open_button_shows_the_same_record(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    await completed_intake(service)
    by_command = await practice.command(DOC, "patient", [str(PAT.user_id)])
    by_button = await practice.button(DOC, Action(Verb.OPEN, PAT.user_id).encode())
    assert by_button == by_command
    viewed = [e for e in await storage.audit_entries() if e.action == "viewed a record"]
    assert [(e.actor, e.subject) for e in viewed] == [(PRACTITIONER, PAT.user_id)] * 2


async def test_a_record_lists_every_intake_and_opens_on_the_latest(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    ann = patient(3001, "Ann")
    first = await complete(service, storage, ann, pain=3)
    outcome = await service.start(ann)
    outcome = await tap(service, ann, outcome, "Start a new intake")
    second = await latest_intake(storage, ann)
    assert second != first

    summary, *record = (await practice.command(DOC, "patient", ["3001"])).replies
    # The latest intake is still in progress, and it is the one shown in full: with nothing
    # to review yet, there is no "Mark reviewed".
    assert summary.html.startswith(f"<b>Intake #{second}</b> (in progress): Ann")
    assert list(buttons(summary)) == ["Open record", "Message patient"]
    history = "\n".join(r.html for r in record)
    assert f"• #{first} started " in history and f"• #{second} started " in history
    assert history.index(f"#{first} ") < history.index(f"#{second} ")
    assert "pain 3/10 (intake)" in history

    # "Open record #N" of the list opens intake N in full, not the latest.
    earlier, *_ = (await practice.button(DOC, Action(Verb.OPEN_INTAKE, first).encode())).replies
    assert f"Intake #{first} " in earlier.html and f"Intake #{second} " not in earlier.html
    assert earlier.html.startswith(f"<b>Intake #{first}</b> (completed): Ann")
    audited = await last_audit(storage)
    assert (audited.action, audited.subject, audited.detail) == (
        "viewed a record",
        3001,
        f"intake {first}",
    )
    gone = await practice.button(DOC, Action(Verb.OPEN_INTAKE, 999999).encode())
    assert gone == Outcome(replies=[Reply("There is no intake #999999 (it may have been erased).")])


@pytest.mark.parametrize("telegram_id", [4242, 0, 2**63 - 1])
async def test_an_unknown_patient_id_says_there_is_none(
    service: Conversation,
    storage: Storage,
    practice: PracticeService,
    telegram_id: int,
) -> None:
    await completed_intake(service)
    for outcome in (
        await practice.command(DOC, "patient", [str(telegram_id)]),
        await practice.button(DOC, Action(Verb.OPEN, telegram_id).encode()),
    ):
        assert only_reply(outcome) == Reply("There is no patient with that id.")
        assert "Mina" not in texts(outcome)
    assert "viewed a record" not in await actions(storage)


async def test_a_patient_without_intakes_is_no_patient_to_the_practitioner(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    await service.start(PAT)  # started the bot, has not consented: nothing of theirs stored
    outcome = await practice.command(DOC, "patient", [str(PAT.user_id)])
    assert only_reply(outcome) == Reply("There is no patient with that id.")


# Mark reviewed -----------------------------------------------------------------------------


async def test_review_marks_a_completed_intake_once_and_clears_it_from_flagged(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    await completed_intake(service)
    intake_id = await latest_intake(storage, PAT)
    flagged = only_reply(await practice.command(DOC, "flagged", []))
    assert listed(flagged) == [intake_id]
    review = buttons(flagged)[f"Mark reviewed #{intake_id}"]

    assert await practice.button(DOC, review) == Outcome(toast="Marked reviewed.")
    marked = await last_audit(storage)
    assert (marked.actor, marked.action, marked.subject, marked.detail) == (
        PRACTITIONER,
        "marked reviewed",
        PAT.user_id,
        f"intake {intake_id}",
    )
    record = await storage.intake_record(intake_id)
    assert record is not None and record.intake.reviewed_at is not None

    assert await practice.button(DOC, review) == Outcome(toast="Already reviewed.")
    assert (await actions(storage)).count("marked reviewed") == 1

    after = only_reply(await practice.command(DOC, "flagged", []))
    assert listed(after) == []
    assert "Nothing here." in after.html
    listing = only_reply(await practice.command(DOC, "intakes", []))
    assert "Mina @mina (id 42): completed, ✔ reviewed" in listing.html
    assert f"Mark reviewed #{intake_id}" not in buttons(listing)


async def test_a_reviewed_urgent_intake_stays_flagged(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    intake_id = await complete(service, storage, PAT, urgent=True)
    review = Action(Verb.REVIEW, intake_id).encode()
    assert await practice.button(DOC, review) == Outcome(toast="Marked reviewed.")
    assert listed(only_reply(await practice.command(DOC, "flagged", []))) == [intake_id]
    # Its record no longer offers to mark it reviewed, and says that it was.
    summary, *_ = (await practice.command(DOC, "patient", [str(PAT.user_id)])).replies
    assert summary.html.startswith(f"<b>Intake #{intake_id}</b> (completed, 🚨 urgent, ✔ reviewed)")
    assert "Mark reviewed" not in buttons(summary)


async def test_review_of_an_intake_in_progress_marks_nothing(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    intake_id = await in_progress(service, storage, PAT)
    outcome = await practice.button(DOC, Action(Verb.REVIEW, intake_id).encode())
    assert outcome == Outcome(toast="This intake is not completed yet: there is nothing to review.")
    record = await storage.intake_record(intake_id)
    assert record is not None and record.intake.reviewed_at is None
    assert "marked reviewed" not in await actions(storage)


# /export -----------------------------------------------------------------------------------


async def test_export_sends_the_csv_as_a_document_and_is_audited(
    storage: Storage, practice: PracticeService, exports: Exports, now: datetime
) -> None:
    outcome = await practice.command(DOC, "export", [])

    [document] = outcome.documents
    assert document.filename == f"ashi-intakes-{now:%Y%m%d}.csv"
    assert re.fullmatch(r"ashi-intakes-\d{8}\.csv", document.filename)
    assert document.data == exports.text.encode()
    assert document.caption == "All intakes as CSV (2)."
    assert outcome.replies == [] and outcome.toast is None
    assert len(exports.calls) == 1
    audited = await last_audit(storage)
    assert (audited.actor, audited.action, audited.subject, audited.detail) == (
        PRACTITIONER,
        "exported (Telegram)",
        None,
        "csv",
    )


async def test_export_caption_counts_what_the_export_returned(
    practice: PracticeService, exports: Exports
) -> None:
    exports.text, exports.count = "intake_id\n", 0
    [document] = (await practice.command(DOC, "export", [])).documents
    assert document.caption == "All intakes as CSV (0)."
    assert document.data == b"intake_id\n"


# /today and /upcoming ----------------------------------------------------------------------


def local(day: int, hour: int, minute: int, now: datetime) -> datetime:
    """`day` days from the clinic's today at hour:minute, clinic time."""
    today = now.astimezone(CLINIC_TZ).date()
    return datetime.combine(today + timedelta(days=day), time(hour, minute), CLINIC_TZ)


async def test_today_lists_todays_appointments_with_intake_state(
    service: Conversation, storage: Storage, practice: PracticeService, now: datetime
) -> None:
    book = AppointmentBook(storage, plan=())
    await completed_intake(service)
    omar = patient(5001, "Omar")
    await in_progress(service, storage, omar, urgent=True)
    await book.book(NewAppointment(local(0, 12, 0, now), telegram_user_id=PAT.user_id))
    await book.book(NewAppointment(local(0, 0, 0, now), name="Walk-in Wu"))
    await book.book(NewAppointment(local(0, 23, 59, now), telegram_user_id=omar.user_id))
    cancelled = await book.book(NewAppointment(local(0, 15, 0, now), name="Gone Gil"))
    assert cancelled is not None and await book.cancel(cancelled.id)
    await book.book(NewAppointment(local(-1, 12, 0, now), name="Yesterday Yu"))
    await book.book(NewAppointment(local(1, 0, 0, now), name="Tomorrow Tam"))

    reply = only_reply(await practice.command(DOC, "today", []))

    date = now.astimezone(CLINIC_TZ).date().isoformat()
    assert reply.html.split("\n") == [
        f"<b>Today</b> ({date})",
        "• 00:00 Walk-in Wu: intake not started",
        "• 12:00 Mina: intake done",
        "• 23:59 Omar: intake in progress 🚨 urgent",
    ]
    assert (await last_audit(storage)).action == "viewed /today"


async def test_today_marks_requests_and_visits_and_records_who_came(
    service: Conversation, storage: Storage, practice: PracticeService, now: datetime
) -> None:
    book = AppointmentBook(storage, plan=())
    await completed_intake(service)
    mine = await book.book(NewAppointment(local(0, 12, 0, now), telegram_user_id=PAT.user_id))
    walk_in = await book.book(NewAppointment(local(0, 9, 0, now), name="Walk-in Wu & Co"))
    assert mine is not None and walk_in is not None
    await storage.set_attendance(mine.id, Attendance.RESCHEDULE)

    reply = only_reply(await practice.command(DOC, "today", []))
    assert reply.html.split("\n")[1:] == [
        "• 09:00 Walk-in Wu &amp; Co: intake not started",
        "• 12:00 Mina: intake done 📅 reschedule requested",
    ]
    labels = [[b.label for b in row] for row in reply.keyboard]
    assert labels == [["09:00 Walk-in Wu & Co: came", "no-show"], ["12:00 Mina: came", "no-show"]]

    press = reply.keyboard[1][1].data
    outcome = await practice.button(DOC, press)
    assert outcome.toast == "Recorded: ✗ no-show"
    assert outcome.edit is not None
    assert outcome.edit.html.endswith("• 12:00 Mina: intake done 📅 reschedule requested ✗ no-show")
    assert outcome.edit.keyboard[1][1].label == "✅ no-show"
    recorded = await storage.appointment(mine.id)
    assert recorded is not None and recorded.visit is Visit.NO_SHOW
    audited = await last_audit(storage)
    assert (audited.action, audited.subject, audited.detail) == (
        "recorded no_show",
        PAT.user_id,
        f"appointment {mine.id}",
    )
    came = await practice.button(DOC, reply.keyboard[1][0].data)
    assert came.toast == "Recorded: ✓ came"
    assert came.edit is not None and came.edit.keyboard[1][0].label == "12:00 Mina: ✅ came"

    # A walk-in booked by name is no patient yet: audited without a subject.
    walked = await practice.button(DOC, reply.keyboard[0][0].data)
    assert walked.toast == "Recorded: ✓ came"
    audited = await last_audit(storage)
    assert (audited.action, audited.subject) == ("recorded attended", None)

    # A forged code, or an appointment since cancelled, records nothing.
    forged = Action(Verb.VISIT, mine.id, "", "maybe").encode()
    assert await practice.button(DOC, forged) == Outcome(toast=VISIT_UNKNOWN)
    assert await book.cancel(walk_in.id)
    assert await practice.button(DOC, reply.keyboard[0][1].data) == Outcome(toast=VISIT_UNKNOWN)


async def test_upcoming_lists_the_rest_of_today_and_the_next_seven_days(
    service: Conversation, storage: Storage, practice: PracticeService, now: datetime
) -> None:
    book = AppointmentBook(storage, plan=())
    await completed_intake(service)
    soon = (now + timedelta(minutes=1)).replace(second=0)
    await book.book(NewAppointment(now - timedelta(minutes=1), name="Gone Gus"))
    await book.book(NewAppointment(soon, name="Soon Tia"))
    await book.book(NewAppointment(local(1, 9, 30, now), telegram_user_id=PAT.user_id))
    await book.book(NewAppointment(local(7, 10, 0, now), name="Week Wen"))
    await book.book(NewAppointment(local(8, 0, 0, now), name="Too Late Lo"))

    reply = only_reply(await practice.command(DOC, "upcoming", []))

    assert reply.html.split("\n") == [
        "<b>Next 7 days</b>",
        f"• {soon.astimezone(CLINIC_TZ):%a %d %b %H:%M} Soon Tia: intake not started",
        f"• {local(1, 9, 30, now):%a %d %b} 09:30 Mina: intake done",
        f"• {local(7, 10, 0, now):%a %d %b} 10:00 Week Wen: intake not started",
    ]
    assert reply.keyboard == ()  # who came is recorded from /today
    audited = await last_audit(storage)
    assert (audited.actor, audited.action, audited.subject) == (
        PRACTITIONER,
        "viewed /upcoming",
        None,
    )


async def test_an_empty_agenda_says_none(
    storage: Storage, practice: PracticeService, now: datetime
) -> None:
    date = now.astimezone(CLINIC_TZ).date().isoformat()
    assert only_reply(await practice.command(DOC, "today", [])) == Reply(
        f"<b>Today</b> ({date})\nnone"
    )
    assert only_reply(await practice.command(DOC, "upcoming", [])) == Reply(
        "<b>Next 7 days</b>\nnone"
    )
    assert await actions(storage) == ["viewed /today", "viewed /upcoming"]
