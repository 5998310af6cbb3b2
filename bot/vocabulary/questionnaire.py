"""The intake questionnaire as identifiers: questions, answer codes and their order.

Labels and prompts live in content/<language>/questions.toml under the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a question is answered."""

    CHOICE = "choice"  # one button
    MULTI = "multi"  # several buttons with check marks, then Done
    SCALE = "scale"  # 0-10 buttons
    TEXT = "text"  # free text
    YES_NO = "yes_no"


class Group(StrEnum):
    """What a question is for: the practitioner's summary groups answers this way."""

    PAIN = "pain"
    SCREENING = "screening"
    RED_FLAG = "red_flag"
    NOTES = "notes"
    FOLLOWUP = "followup"


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    kind: Kind
    group: Group
    options: tuple[str, ...] = ()
    optional: bool = False

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


AREA_OTHER = "other"
# The longest free-text answer kept (intake and follow-up): every message quoting one must
# still fit Telegram's 4,096 characters.
MAX_TEXT_ANSWER = 1000
YES = "yes"

_QUESTIONS: tuple[Question, ...] = (
    Question(
        "areas",
        Kind.MULTI,
        Group.PAIN,
        ("neck_shoulders", "upper_back", "lower_back_hips", "arms", "legs_calves", AREA_OTHER),
    ),
    Question("areas_other", Kind.TEXT, Group.PAIN),
    Question("cause", Kind.CHOICE, Group.PAIN, ("desk", "exercise", "injury", "not_sure")),
    Question("intensity", Kind.SCALE, Group.PAIN),
    Question("duration", Kind.CHOICE, Group.PAIN, ("lt_1w", "w1_6", "w6_12", "gt_3m")),
    Question("ashi_point", Kind.CHOICE, Group.PAIN, ("yes", "no", "not_sure")),
    # Red flags come before the other safety questions: they matter most if a patient stops.
    Question("rf_numbness_weakness", Kind.YES_NO, Group.RED_FLAG),
    Question("rf_bladder_bowel", Kind.YES_NO, Group.RED_FLAG),
    Question("rf_fever_back_pain", Kind.YES_NO, Group.RED_FLAG),
    Question("rf_fall_accident", Kind.YES_NO, Group.RED_FLAG),
    Question("rf_weight_loss", Kind.YES_NO, Group.RED_FLAG),
    Question("rf_chest_pain", Kind.YES_NO, Group.RED_FLAG),
    Question("under_18", Kind.YES_NO, Group.SCREENING),
    Question("pregnancy", Kind.YES_NO, Group.SCREENING),
    Question("blood_thinners", Kind.YES_NO, Group.SCREENING),
    Question("needle_fear", Kind.YES_NO, Group.SCREENING),
    Question("local_infection", Kind.YES_NO, Group.SCREENING),
    Question("recent_surgery", Kind.YES_NO, Group.SCREENING),
    Question("lymphoedema", Kind.YES_NO, Group.SCREENING),
    Question("metal_allergy", Kind.YES_NO, Group.SCREENING),
    Question("epilepsy", Kind.YES_NO, Group.SCREENING),
    Question("immune_diabetes", Kind.YES_NO, Group.SCREENING),
    Question("cancer", Kind.YES_NO, Group.SCREENING),
    Question("implants", Kind.YES_NO, Group.SCREENING),
    Question("lung_disease", Kind.YES_NO, Group.SCREENING),
    Question("notes", Kind.TEXT, Group.NOTES, optional=True),
)

QUESTIONS: dict[str, Question] = {q.id: q for q in _QUESTIONS}
ORDER: tuple[str, ...] = tuple(q.id for q in _QUESTIONS)

# Warning signs after needling, one question each: a yes gets that sign's own advice at once
# (content: followup.advice.<id>) and alerts the practitioners.
FOLLOWUP_WARNING_SIGNS: tuple[str, ...] = (
    "fu_breathing",
    "fu_infection",
    "fu_numbness",
    "fu_bleeding",
)

# The follow-up check-in after treatment, asked in this order.
FOLLOWUP_QUESTIONS: tuple[Question, ...] = (
    Question("fu_soreness", Kind.SCALE, Group.FOLLOWUP),
    Question("fu_compared", Kind.CHOICE, Group.FOLLOWUP, ("better", "same", "worse")),
    *(Question(qid, Kind.YES_NO, Group.FOLLOWUP) for qid in FOLLOWUP_WARNING_SIGNS),
    Question("fu_note", Kind.TEXT, Group.FOLLOWUP, optional=True),
)
# No longer asked (split into FOLLOWUP_WARNING_SIGNS); kept so that answers stored before
# still have their label in exports, /patient and /mydata.
LEGACY_FOLLOWUP_QUESTIONS: tuple[Question, ...] = (
    Question("fu_warning_signs", Kind.YES_NO, Group.FOLLOWUP),
)
FOLLOWUP: dict[str, Question] = {q.id: q for q in (*FOLLOWUP_QUESTIONS, *LEGACY_FOLLOWUP_QUESTIONS)}


def question(question_id: str) -> Question:
    """The intake or follow-up question with this id; KeyError if there is none."""
    return QUESTIONS.get(question_id) or FOLLOWUP[question_id]


def questions_in(group: Group) -> list[Question]:
    """The questions of one group, in asking order."""
    return [q for q in _QUESTIONS if q.group is group]
