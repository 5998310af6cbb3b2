"""Checks that content/ is complete and that everything rendered from it fits Telegram.

Used by `ashi content check`, by `ashi run` and `ashi demo` before they start, and by the
tests: each problem names the language, the key or message, and what is wrong.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.content import (
    REFERENCE_LANGUAGE,
    SHIPPED_CONTENT,
    Catalog,
    Content,
    ContentError,
    placeholders,
)
from bot.intake import returning, views
from bot.intake.guide import guide_sections
from bot.intake.screening import notice
from bot.intake.typed import normal
from bot.questionnaire import MAX_TEXT_ANSWER, Group, Kind, Question, Questionnaire
from bot.scores.activities import MAX_ACTIVITIES, MAX_NAME, Activities, Activity
from bot.telegram_html import HtmlParseError, clean, is_empty_text, parse_html
from bot.vocabulary import rendering
from bot.vocabulary.actions import MAX_CALLBACK_BYTES, Action, Verb
from bot.vocabulary.flow import Block
from bot.vocabulary.outgoing import Reply
from storage import Answer, Carried, Intake, IntakeRecord, IntakeStatus, Patient, RedFlag

MAX_BUTTON_LABEL = 64
MAX_COMMAND_DESCRIPTION = 256
# Worst-case filler: every character needs escaping, so escaped text is longest.
LONG = "<&>" * 34
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


@dataclass(frozen=True)
class Problem:
    language: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"content/{self.language}{file_of(self.where)}: {self.where}: {self.what}"


def file_of(key: str) -> str:
    """The file a dotted key lives in ('' for rendered messages, which span files)."""
    head = key.split(".", 1)[0]
    if " " in key or "." not in key:
        return ""
    return f"/{head}.toml" if head in ("questions", "guide") else "/messages.toml"


def is_plain(key: str) -> bool:
    """Whether a key holds plain text (a label) rather than Telegram HTML."""
    last = key.rsplit(".", 1)[-1]
    if last.endswith("_button") or last in ("short", "in_full") or ".options." in key:
        return True
    if key.startswith(("commands.", "questions.yes_no.", "export.")):
        return True
    return key.startswith("guide.") and last == "title"


def _check_reply(language: str, where: str, reply: Reply, problems: list[Problem]) -> None:
    try:
        parsed = parse_html(reply.html)
    except HtmlParseError as exc:
        problems.append(Problem(language, where, f"invalid Telegram HTML: {exc}"))
        return
    visible = parsed.text
    if is_empty_text(clean(parsed).text):
        problems.append(Problem(language, where, "message is empty"))
    if len(visible) > rendering.MAX_MESSAGE:
        problems.append(
            Problem(language, where, f"{len(visible)} characters, over {rendering.MAX_MESSAGE}")
        )
    for row in reply.keyboard:
        for button in row:
            if not button.label or len(button.label) > MAX_BUTTON_LABEL:
                problems.append(Problem(language, where, f"button label {button.label!r}"))
            if len(button.data.encode()) > MAX_CALLBACK_BYTES:
                problems.append(Problem(language, where, f"callback data {button.data!r}"))


def how_to_add(reference: Catalog, key: str) -> str:
    """Where a missing text goes and what the shipped one says, for a clinic's copy."""
    head, _, rest = key.partition(".")
    file, inner = (head, rest) if head in ("questions", "guide") else ("messages", key)
    table, _, name = inner.rpartition(".")
    where = f"under [{table}]" if table else "at the top"
    shipped = reference.raw(key)
    if len(shipped) <= 200 and "\n" not in shipped:
        # A JSON string is a valid TOML basic string.
        return f"add {name} = {json.dumps(shipped, ensure_ascii=False)} {where} in {file}.toml"
    source = SHIPPED_CONTENT / reference.language / f"{file}.toml"
    return f"add {name} {where} in {file}.toml; the shipped text is in {source}"


def _check_texts(
    reference: Catalog, catalog: Catalog, problems: list[Problem], *, hint: bool
) -> None:
    lang = catalog.language
    shipped = set(reference.text_keys())
    for key in _needed_keys(reference, catalog.questionnaire):
        try:
            template = catalog.raw(key)
        except ContentError as exc:
            if key not in shipped:
                what = f"{exc}: questionnaire.toml asks this question"
            else:
                what = f"{exc}: {how_to_add(reference, key)}" if hint else str(exc)
            problems.append(Problem(lang, key, what))
            continue
        expected = placeholders(reference.raw(key)) if key in shipped else placeholders(template)
        if placeholders(template) != expected:
            problems.append(
                Problem(
                    lang,
                    key,
                    f"placeholders {sorted(placeholders(template))} must be {sorted(expected)}",
                )
            )
            continue
        if not template.strip():
            problems.append(Problem(lang, key, "text is empty"))
        elif is_plain(key):
            limit = MAX_COMMAND_DESCRIPTION if key.startswith("commands.") else MAX_BUTTON_LABEL
            if len(template) > limit and not key.endswith(".in_full"):  # a line, no label
                problems.append(Problem(lang, key, f"{len(template)} characters, over {limit}"))
            if _TAG.search(template):
                problems.append(Problem(lang, key, "plain text: a tag here would show literally"))
        else:
            filled = catalog.text(key, **dict.fromkeys(expected, LONG))
            _check_reply(lang, key, Reply(filled), problems)


def question_keys(q: Question, *, asked: bool = True) -> list[str]:
    """The texts a question needs in every language: its words and, while it is asked, the
    advice its answer brings."""
    keys = [f"questions.{q.id}.prompt", f"questions.{q.id}.short"]
    keys += [f"questions.{q.id}.options.{code}" for code in q.options]
    if not asked:
        return keys
    if q.group is Group.RED_FLAG:
        keys += [f"questions.{q.id}.in_full", f"safety.red_flags.{q.id}"]
    if q.notice:
        keys.append(f"safety.notices.{q.id}")
    if q.group is Group.WARNING_SIGN:
        keys.append(f"followup.advice.{q.id}")
    return keys


_PER_QUESTION = ("questions.", "safety.red_flags.", "safety.notices.", "followup.advice.")


def _needed_keys(reference: Catalog, questionnaire: Questionnaire) -> list[str]:
    """Every text key a catalog must hold: the reference's, less the words of questions
    this questionnaire does not ask, plus those of questions only it asks."""
    asked = (*questionnaire.intake, *questionnaire.followup)
    needed = [k for q in asked for k in question_keys(q)]
    needed += [k for q in questionnaire.retired for k in question_keys(q, asked=False)]
    wanted = set(needed)
    keys = [
        key
        for key in reference.text_keys()
        if key in wanted or not key.startswith(_PER_QUESTION) or key.startswith("questions.yes_no.")
    ]
    known = set(keys)
    return keys + [key for key in needed if key not in known]


def _longest_activities() -> dict[str, object]:
    """Three of the longest activities, the last one waiting for its new rating."""
    rated = [Activity("<" * MAX_NAME + str(n), 10, 10) for n in range(MAX_ACTIVITIES - 1)]
    waiting = Activity("<" * MAX_NAME, None, 10)
    return Activities((*rated, waiting)).to_value()


def _longest_answers(questionnaire: Questionnaire) -> dict[str, object]:
    answers: dict[str, object] = {}
    for q in questionnaire.intake:
        qid = q.id
        if q.kind is Kind.MULTI:
            answers[qid] = list(q.codes)
        elif q.kind is Kind.TEXT:
            answers[qid] = "<" * MAX_TEXT_ANSWER
        elif q.kind is Kind.ACTIVITIES:
            answers[qid] = _longest_activities()
        else:
            answers[qid] = q.codes[-1] if q.kind is not Kind.YES_NO else "yes"
    return answers


def _check_rendered(catalog: Catalog, problems: list[Problem]) -> None:
    lang = catalog.language
    questions = catalog.questionnaire
    answers = _longest_answers(questions)
    big_id = 2**31  # the longest callback data a real id will give for years
    _check_reply(
        lang, "which answer to change", views.change_choice(catalog, big_id, answers), problems
    )
    for qid in questions.order:
        _check_reply(
            lang,
            f"question {qid}",
            views.question_reply(catalog, big_id, qid, answers),
            problems,
        )
        _check_reply(
            lang, f"answered {qid}", rendering.answered(catalog, qid, answers[qid]), problems
        )
    for q in questions.followup:
        reply = rendering.followup_reply(catalog, big_id, q.id)
        _check_reply(lang, f"follow-up {q.id}", reply, problems)
    _check_reply(lang, "welcome", views.welcome(catalog, LONG), problems)
    for q in questions.in_group(Group.RED_FLAG):
        advice = views.red_flag_advice(catalog, q.id)
        _check_reply(lang, f"red flag advice {q.id}", advice, problems)
    _check_reply(lang, "summary", views.summary(catalog, big_id, answers), problems)
    summary = views.summary(catalog, big_id, answers, note_here=True)
    _check_reply(lang, "summary of a returning intake", summary, problems)
    for block in Block:
        for changing in (False, True):
            reply = returning.check_reply(
                catalog, big_id, block, answers, date="2026-12-31", changing=changing
            )
            _check_reply(lang, f"returning {block}{' changing' * changing}", reply, problems)
    for q in questions.in_group(Group.SCREENING):
        if notice(questions, q.id, "yes"):
            _check_reply(
                lang, f"notice {q.id}", Reply(catalog.text(f"safety.notices.{q.id}")), problems
            )
    # Every combination of areas with the longest extras (exercise, every red flag), and
    # each area with each cause, with and without red flags.
    areas = list(questions.question("areas").codes)
    combinations = [
        (list(chosen), "exercise")
        for size in range(1, len(areas) + 1)
        for chosen in itertools.combinations(areas, size)
    ] + [([area], cause) for area in areas for cause in questions.question("cause").codes]
    no_flags = {q.id: "no" for q in questions.in_group(Group.RED_FLAG)}
    for chosen, cause in combinations:
        for flagged in (False, True):
            subset = {**answers, **({} if flagged else no_flags), "areas": chosen, "cause": cause}
            replies = views.guide_replies(catalog, subset, urgent=flagged)
            names = "+".join(guide_sections(subset))
            for number, reply in enumerate(replies, 1):
                where = (
                    f"guide {names} ({cause}{', red flags' if flagged else ''}) message {number}"
                )
                _check_reply(lang, where, reply, problems)
    reminder = rendering.choice(
        catalog,
        "appointments.reminder",
        [("appointments.attend_button", Action(Verb.ATTEND, big_id, "7fffffff", "reschedule"))],
        place=LONG,
        date="2026-01-01",
        time="10:00",
    )
    every_flag = [q.id for q in questions.in_group(Group.RED_FLAG)]
    unreviewed = views.flagged_reminder(catalog, reminder, every_flag)
    _check_reply(lang, "reminder with every red flag unreviewed", unreviewed, problems)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    record = IntakeRecord(
        intake=Intake(2**31, 1, IntakeStatus.COMPLETED, "done", True, "x" * 64, "v", now, now),
        patient=Patient(1, 2**40, 2**40, LONG, "u" * 32, lang, now),
        answers=tuple(Answer(qid, json.dumps(value), now) for qid, value in answers.items()),
        red_flags=(),
    )
    # Every red flag raised now, or every one in an earlier intake (a flag raised again now
    # is not recalled), first or returning (every answer but the measured ones carried
    # forward): the longest summaries there can be.
    flags = [q.id for q in questions.in_group(Group.RED_FLAG)]
    earlier = [(2**31 - 1, RedFlag(flag, now)) for flag in flags]
    returned = replace(record.intake, returning_from=2**31 - 1, checks={"red_flags": "none"})
    carried = {qid: Carried(2**31 - 1, now) for qid in answers if qid not in questions.scored}
    for flagged in (True, False):
        given = {**answers, **({} if flagged else dict.fromkeys(flags, "no"))}
        for intake, marks in ((record.intake, {}), (returned, carried)):
            summary = views.practitioner_summary(
                catalog, record.patient, intake, given, ZoneInfo("UTC"), earlier, carried=marks
            )
            where = f"practitioner summary{' of a returning intake' * bool(marks)}"
            _check_reply(lang, where, summary, problems)
    first_flag = questions.in_group(Group.RED_FLAG)[0].id
    alert = views.red_flag_alert(catalog, record.patient, record.intake.id, first_flag)
    _check_reply(lang, "practitioner red flag alert", alert, problems)
    listed = views.red_flag_alert(catalog, record.patient, record.intake.id, None)
    _check_reply(lang, "practitioner alert of red flags listed together", listed, problems)


def _check_typed_words(catalog: Catalog, problems: list[Problem]) -> None:
    """The words typed for yes and no: present, and none meaning both."""
    try:
        said = {code: {normal(w) for w in catalog.words(f"typed.{code}")} for code in ("yes", "no")}
    except ContentError as exc:
        problems.append(Problem(catalog.language, "typed", str(exc)))
        return
    if both := said["yes"] & said["no"]:
        problems.append(Problem(catalog.language, "typed", f"both yes and no: {sorted(both)}"))


def check_content(content: Content, shipped: Content | None = None) -> list[Problem]:
    """Every problem found in every language, compared with the reference language.

    With `shipped` (the texts this version of Ashi comes with), a clinic's own copy is
    held to the keys this version needs, and each missing one says how to add it.
    """
    problems: list[Problem] = []
    reference = (shipped or content).catalog(REFERENCE_LANGUAGE)
    for language in content.languages:
        catalog = content.catalog(language)
        _check_texts(reference, catalog, problems, hint=shipped is not None)
        _check_typed_words(catalog, problems)
        try:
            _check_rendered(catalog, problems)
        except ContentError as exc:
            # A text that rendering needs is missing.
            if not any(p.language == language for p in problems):
                problems.append(Problem(language, "rendered messages", str(exc)))
    return problems


def check_configured(content: Content) -> list[Problem]:
    """check_content for the folder in use: a clinic's copy against the shipped texts."""
    if content.directory.resolve() == SHIPPED_CONTENT:
        return check_content(content)
    return check_content(content, Content.load(SHIPPED_CONTENT))
