"""A patient's pain over their intakes, as the practitioner and the patient see it: the
summary and the record judge the change since the first visit, /flagged names those clearly
worse, and the patient gets one kind line."""

from __future__ import annotations

import re

from bot.practice.service import PracticeService
from bot.vocabulary.outgoing import Outcome
from bot.vocabulary.people import Who
from storage import Storage
from tests.support.conversation import Conversation
from tests.support.patient_flow import texts, unchanged_since
from tests.unit.practice.test_service import DOC, complete, patient, tap

DATE = r"\d{4}-\d\d-\d\d"


async def again(service: Conversation, who: Who, pain: int) -> Outcome:
    """A later intake of `who` with this pain, confirmed: what its Confirm produced."""
    outcome = await service.start(who)
    outcome = await tap(service, who, outcome, "Start a new intake")
    outcome = await unchanged_since(service, outcome, pain, who)
    outcome = await tap(service, who, outcome, "Skip")  # no activities
    return await tap(service, who, outcome, "Confirm")


def practitioner_summary(outcome: Outcome) -> str:
    [note] = outcome.notifications
    return note.reply.html


async def test_the_course_is_judged_for_practitioner_and_patient(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    ann = patient(3101, "Ann")
    await complete(service, storage, ann, pain=7)

    confirmed = await again(service, ann, pain=4)

    # The patient: one kind line, right after the thank-you.
    thanks, progress, *_ = [reply.html for reply in confirmed.replies]
    assert thanks.startswith("Thank you!")
    assert re.fullmatch(
        rf"Your pain: 7 out of 10 at your first visit on {DATE}, 4 now\. Good to see it easing\.",
        progress,
    )
    # The practitioner: first and latest, the change and its judgement, after the pain.
    summary = practitioner_summary(confirmed)
    course = rf"• Pain: 7 on {DATE} → 4 on {DATE}: -3 points \(-43 %\), <b>improved</b>"
    assert re.search(r"<b>Since the first visit</b>\n" + course, summary)
    assert summary.index("<b>Pain</b>") < summary.index("Since the first visit")
    assert "previous:" not in summary  # two visits: the first is the previous
    record = texts(await practice.command(DOC, "patient", [str(ann.user_id)]))
    assert re.search(course, record)

    # /progress: the patient's own scores with their dates, and the same kind line.
    shown = await service.command(ann, "progress")
    mine = texts(shown)
    assert re.fullmatch(
        r"<b>Your scores at each visit</b> \(0-10\)\n"
        rf"• {DATE}: pain 7 out of 10 \(0 = none\)\n• {DATE}: pain 4 out of 10 \(0 = none\)"
        r"\n\nYour pain: 7 out of 10 .*easing\.",
        mine,
    )
    [chart] = shown.photos  # the chart they helped make
    assert chart.data.startswith(b"\x89PNG") and chart.caption
    stranger = await service.command(patient(3999, "Zed"), "progress")
    assert texts(stranger).startswith(
        "Your progress shows here once there are two scores to compare"
    )
    assert stranger.photos == []

    confirmed = await again(service, ann, pain=6)
    assert "Your practitioner will look at how it is going with you." in texts(confirmed)
    summary = practitioner_summary(confirmed)
    assert re.search(rf"→ 6 on {DATE}: -1 points \(-14 %\), <b>no clear change</b>", summary)
    assert re.search(rf"previous: 4 on {DATE}", summary)


async def test_a_first_intake_has_no_course_and_flagged_lists_the_clearly_worse(
    service: Conversation, storage: Storage, practice: PracticeService
) -> None:
    ben, cai = patient(3201, "Ben"), patient(3202, "Cai")
    await complete(service, storage, ben, pain=3)
    await complete(service, storage, cai, pain=5)
    record = texts(await practice.command(DOC, "patient", [str(ben.user_id)]))
    assert "Since the first visit" not in record
    assert "Clearly worse" not in texts(await practice.command(DOC, "flagged", []))

    to_ben = await again(service, ben, pain=6)
    await again(service, cai, pain=5)

    progress = to_ben.replies[1].html
    assert progress.endswith(
        "Your practitioner will see this and talk it through with you at your visit."
    )
    assert "worse" not in progress.lower()  # kind words, no alarm
    assert "<b>⚠️ worse</b>" in practitioner_summary(to_ben)
    flagged = await practice.command(DOC, "flagged", [])
    listing = texts(flagged)
    assert "<b>Clearly worse</b> than at the first visit" in listing
    worse_part = listing.split("Clearly worse")[1]
    assert re.search(rf"• Ben @ben \(id 3201\), Pain: 3 on {DATE} → 6 on {DATE}", worse_part)
    assert "Cai" not in worse_part
    last = flagged.replies[-1]
    assert [b.label for row in last.keyboard for b in row] == ["Open record: Ben"]
