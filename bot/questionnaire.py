"""The questionnaires (intake and follow-up) as data, read from content/questionnaire.toml.

The file says which questions are asked, in what order, how each is answered and what an
answer means; the code gives each kind and group its behaviour. Words live in
content/<language>/questions.toml under the same ids.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

FILE_NAME = "questionnaire.toml"
# The longest free-text answer kept (intake and follow-up): every message quoting one must
# still fit Telegram's 4,096 characters.
MAX_TEXT_ANSWER = 1000
YES = "yes"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LOINC = re.compile(r"[0-9]{1,7}-[0-9]")


class Kind(StrEnum):
    """How a question is answered."""

    CHOICE = "choice"  # one button
    MULTI = "multi"  # several buttons with check marks, then Done
    SCALE = "scale"  # 0-10 buttons
    TEXT = "text"  # free text
    YES_NO = "yes_no"
    # Up to three activities named in the patient's words, each rated 0-10 by button (the
    # PSFS, bot.scores.activities); rated again, quoted back, at later visits.
    ACTIVITIES = "activities"


class Measure(StrEnum):
    """An outcome followed over visits: the answers of every question with this measure
    make one course (bot.outcomes)."""

    PAIN = "pain"  # pain now, 0-10: lower is better
    FUNCTION = "function"  # the PSFS score, 0-10: higher is better


class Group(StrEnum):
    """What a question is for: the practitioner's summary groups answers this way."""

    PAIN = "pain"
    SCREENING = "screening"
    RED_FLAG = "red_flag"
    NOTES = "notes"
    FOLLOWUP = "followup"
    WARNING_SIGN = "warning_sign"  # after needling: a yes gets its own advice at once


class Urgency(IntEnum):
    """How soon a red flag needs a doctor; higher is more urgent."""

    SOON = 1  # book an appointment with a doctor soon
    TODAY = 2  # see a doctor or urgent care today
    EMERGENCY = 3  # emergency department or the emergency number now


_INTAKE_GROUPS = frozenset({Group.PAIN, Group.SCREENING, Group.RED_FLAG, Group.NOTES})
_FOLLOWUP_GROUPS = frozenset({Group.FOLLOWUP, Group.WARNING_SIGN})
_WITH_OPTIONS = frozenset({Kind.CHOICE, Kind.MULTI})
# The kind of question each measure is scored from.
MEASURED_KIND = {Measure.PAIN: Kind.SCALE, Measure.FUNCTION: Kind.ACTIVITIES}
# Ids the code reads by name, with the kind it expects.
REQUIRED_INTAKE = {"areas": Kind.MULTI, "cause": Kind.CHOICE, "intensity": Kind.SCALE}
REQUIRED_FOLLOWUP = {"fu_soreness": Kind.SCALE, "fu_compared": Kind.CHOICE}


class QuestionnaireError(ValueError):
    """The questionnaire file is malformed or inconsistent."""


@dataclass(frozen=True, slots=True)
class Condition:
    """An earlier answer a question depends on: `question`'s answer is or includes `code`."""

    question: str
    code: str

    def holds(self, answers: Mapping[str, object]) -> bool:
        """Whether the answers so far meet the condition."""
        value = answers.get(self.question)
        return value == self.code or (isinstance(value, list) and self.code in value)


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    kind: Kind
    group: Group
    options: tuple[str, ...] = ()
    optional: bool = False
    asked_when: Condition | None = None
    urgency: Urgency | None = None  # red flags only
    notice: bool = False  # screening: a yes is answered at once
    alert_from: int | None = None  # follow-up scale: alerts from this number
    alert_on: tuple[str, ...] = ()  # follow-up choice: these codes alert
    loinc: str | None = None  # a pain scale: its LOINC code (exported as an Observation)
    measure: Measure | None = None  # the course its answers add to
    later: bool = False  # follow-up: asked only in a later follow-up (+7 d)

    @property
    def codes(self) -> tuple[str, ...]:
        """Every valid answer code for a button question."""
        if self.kind is Kind.SCALE:
            return tuple(str(n) for n in range(11))
        if self.kind is Kind.YES_NO:
            return ("yes", "no")
        return self.options

    def value_of(self, code: str) -> object:
        """The stored value of a button's answer code (a number on a scale)."""
        return int(code) if self.kind is Kind.SCALE else code

    def applies(self, answers: Mapping[str, object]) -> bool:
        """Whether the question is asked at all, given the answers so far."""
        return self.asked_when is None or self.asked_when.holds(answers)

    def alerts(self, value: object) -> bool:
        """Whether this follow-up answer should alert the practitioner."""
        if self.group is Group.WARNING_SIGN:
            return value == YES
        if self.alert_from is not None:
            return isinstance(value, int) and value >= self.alert_from
        return isinstance(value, str) and value in self.alert_on


class Questionnaire:
    """The intake and follow-up questions in asking order, and retired ones whose stored
    answers still need their words."""

    def __init__(
        self,
        intake: tuple[Question, ...],
        followup: tuple[Question, ...],
        retired: tuple[Question, ...] = (),
    ) -> None:
        self.intake = intake
        self.followup = followup
        self.retired = retired
        self._by_id = {q.id: q for q in (*intake, *followup, *retired)}
        self._intake_ids = frozenset(q.id for q in intake)
        self.retired_ids = frozenset(q.id for q in retired)
        self.order = tuple(q.id for q in intake)
        self.followup_order = tuple(q.id for q in followup)
        self._measured = {
            m: tuple(q.id for q in (*intake, *followup, *retired) if q.measure is m)
            for m in Measure
        }

    def question(self, question_id: str) -> Question:
        """The intake, follow-up or retired question with this id; KeyError if none."""
        return self._by_id[question_id]

    def asks(self, question_id: str) -> bool:
        """Whether this is an intake question."""
        return question_id in self._intake_ids

    def measured(self, measure: Measure) -> tuple[str, ...]:
        """The questions (asked or retired) whose answers make this measure's course."""
        return self._measured[measure]

    @property
    def scored(self) -> tuple[str, ...]:
        """Every question whose answers are scores, of any measure."""
        return tuple(qid for measure in Measure for qid in self._measured[measure])

    def in_group(self, group: Group) -> list[Question]:
        """The asked questions of one group, in asking order."""
        return [q for q in (*self.intake, *self.followup) if q.group is group]


def parse_questionnaire_file(raw: bytes) -> Questionnaire:
    """The questionnaire in a file's bytes; QuestionnaireError says what is wrong."""
    try:
        return parse_questionnaire(tomllib.loads(raw.decode("utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise QuestionnaireError(str(exc)) from exc


def parse_questionnaire(data: Mapping[str, Any]) -> Questionnaire:
    """The questionnaire in parsed TOML; QuestionnaireError names the question at fault."""
    unknown = set(data) - {"intake", "followup", "retired"}
    if unknown:
        raise QuestionnaireError(f"unknown sections {sorted(unknown)}")
    seen: dict[str, Question] = {}
    parts: dict[str, tuple[Question, ...]] = {}
    for part, groups in (
        ("intake", _INTAKE_GROUPS),
        ("followup", _FOLLOWUP_GROUPS),
        ("retired", _INTAKE_GROUPS | _FOLLOWUP_GROUPS),
    ):
        entries = data.get(part, [])
        if part != "retired" and not entries:
            raise QuestionnaireError(f"[[{part}]]: no questions")
        if not isinstance(entries, list):
            raise QuestionnaireError(f"{part}: must be a list of [[{part}]] tables")
        questions = []
        for number, entry in enumerate(entries, 1):
            q = _question(part, number, entry, groups, seen)
            seen[q.id] = q
            questions.append(q)
        parts[part] = tuple(questions)
    for required, part in ((REQUIRED_INTAKE, "intake"), (REQUIRED_FOLLOWUP, "followup")):
        for qid, kind in required.items():
            found = next((q for q in parts[part] if q.id == qid), None)
            if found is None or found.kind is not kind:
                raise QuestionnaireError(f"[[{part}]]: the bot needs {qid!r} as a {kind} question")
    for group in (Group.RED_FLAG, Group.SCREENING):
        if not any(q.group is group for q in parts["intake"]):
            raise QuestionnaireError(f"[[intake]]: no {group} question (safety needs them)")
    return Questionnaire(parts["intake"], parts["followup"], parts["retired"])


_FIELDS = frozenset(
    {
        "id",
        "kind",
        "group",
        "options",
        "optional",
        "asked_when",
        "urgency",
        "notice",
        "alert_from",
        "alert_on",
        "loinc",
        "measure",
        "later",
    }
)


def _question(
    part: str,
    number: int,
    entry: Any,
    groups: frozenset[Group],
    earlier: Mapping[str, Question],
) -> Question:
    where = f"[[{part}]] {number}"
    if not isinstance(entry, Mapping):
        raise QuestionnaireError(f"{where}: not a table")
    qid = entry.get("id")
    if not isinstance(qid, str) or not _NAME.match(qid):
        raise QuestionnaireError(f"{where}: id must be lower-case letters, digits and _")
    where = f"{where} ({qid})"

    def fail(what: str) -> QuestionnaireError:
        return QuestionnaireError(f"{where}: {what}")

    if qid in earlier:
        raise fail("the id is used twice")
    if unknown := set(entry) - _FIELDS:
        raise fail(f"unknown fields {sorted(unknown)}")
    try:
        kind = Kind(str(entry.get("kind")))
        group = Group(str(entry.get("group")))
    except ValueError as exc:
        raise fail(str(exc)) from exc
    if group not in groups:
        raise fail(f"group {group} does not belong in [[{part}]]")
    options = _codes(entry.get("options", []), fail)
    if (kind in _WITH_OPTIONS) != bool(options):
        raise fail("choice and multi questions need options; other kinds have none")
    optional = entry.get("optional", False)
    if optional is not False and not (optional is True and kind is Kind.TEXT):
        raise fail("only a text question can be optional")
    if group in (Group.RED_FLAG, Group.SCREENING, Group.WARNING_SIGN) and kind is not Kind.YES_NO:
        raise fail(f"{group} questions are yes_no")
    urgency = _urgency(entry.get("urgency"), fail)
    if (group is Group.RED_FLAG) != (urgency is not None):
        raise fail("every red flag, and only a red flag, has an urgency")
    notice = entry.get("notice", False)
    if notice is not False and not (notice is True and group is Group.SCREENING):
        raise fail("notice = true is for screening questions")
    alert_from = entry.get("alert_from")
    if alert_from is not None and not (
        kind is Kind.SCALE and group is Group.FOLLOWUP and type(alert_from) is int
    ):
        raise fail("alert_from is a number for a follow-up scale")
    alert_on = _codes(entry.get("alert_on", []), fail)
    if alert_on and not (group is Group.FOLLOWUP and set(alert_on) <= set(options)):
        raise fail("alert_on lists options of a follow-up choice")
    asked_when = _condition(entry.get("asked_when"), part, earlier, fail)
    measure = _measure(entry.get("measure"), kind, fail)
    if kind is Kind.ACTIVITIES and (measure is not Measure.FUNCTION or number == 1):
        raise fail('an activities question has measure = "function" and is not the first')
    loinc = entry.get("loinc")
    if loinc is not None and not (
        isinstance(loinc, str) and _LOINC.fullmatch(loinc) and measure is Measure.PAIN
    ):
        raise fail('loinc = "<code>" (such as "72514-3") is for a pain measure question')
    later = entry.get("later", False)
    if later is not False and not (later is True and part != "intake" and number > 1):
        raise fail("later = true is for a follow-up question that is not the first")
    return Question(
        qid,
        kind,
        group,
        options,
        optional,
        asked_when,
        urgency,
        notice,
        alert_from,
        alert_on,
        loinc,
        measure,
        later,
    )


def _measure(value: Any, kind: Kind, fail: Callable[[str], QuestionnaireError]) -> Measure | None:
    if value is None:
        return None
    try:
        measure = Measure(str(value))
    except ValueError as exc:
        raise fail(f"measure is one of {', '.join(Measure)}") from exc
    if MEASURED_KIND[measure] is not kind:
        raise fail(f'measure = "{measure}" is for a {MEASURED_KIND[measure]} question')
    return measure


def _codes(value: Any, fail: Callable[[str], QuestionnaireError]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(c, str) and _NAME.match(c) for c in value):
        raise fail("answer codes are lower-case letters, digits and _")
    if len(set(value)) != len(value):
        raise fail("an answer code is listed twice")
    return tuple(value)


def _urgency(value: Any, fail: Callable[[str], QuestionnaireError]) -> Urgency | None:
    if value is None:
        return None
    names = [u.name.lower() for u in Urgency]
    if value not in names:
        raise fail(f"urgency is one of {', '.join(names)}")
    return Urgency[str(value).upper()]


def _condition(
    value: Any,
    part: str,
    earlier: Mapping[str, Question],
    fail: Callable[[str], QuestionnaireError],
) -> Condition | None:
    if value is None:
        return None
    if part != "intake" or not isinstance(value, Mapping) or set(value) != {"question", "includes"}:
        raise fail('asked_when = { question = "<id>", includes = "<code>" }, in [[intake]]')
    target = earlier.get(value["question"])
    if target is None or target.kind not in _WITH_OPTIONS or not target.applies({}):
        raise fail("asked_when names an earlier choice or multi question that is always asked")
    if value["includes"] not in target.options:
        raise fail(f"{value['includes']!r} is not an option of {target.id!r}")
    return Condition(target.id, value["includes"])
