"""The questionnaire as data: a clinic's copy reorders, adds and retires questions, and a
broken one is refused with the question at fault named."""

import re
import shutil
from pathlib import Path

import pytest

from bot.content import SHIPPED_CONTENT, Content, ContentError
from bot.content_check import check_content
from bot.intake import views
from bot.questionnaire import FILE_NAME
from bot.telegram_html import parse_html
from bot.vocabulary import flow
from tests.support.questionnaire import ORDER


def clinic_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(SHIPPED_CONTENT, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def tables(folder: Path) -> tuple[str, list[str]]:
    """The questionnaire file split into its head and its [[...]] tables."""
    text = (folder / FILE_NAME).read_text()
    head, *rest = re.split(r"(?m)^(?=\[\[)", text)
    return head, rest


def table_of(parts: list[str], qid: str) -> str:
    return next(p for p in parts if f'id = "{qid}"\n' in p)


def rewrite(folder: Path, edit: str, new: str) -> None:
    path = folder / FILE_NAME
    text = path.read_text()
    assert edit in text
    path.write_text(text.replace(edit, new, 1))


def test_a_question_moved_in_the_file_is_asked_there(tmp_path: Path) -> None:
    folder = clinic_copy(tmp_path)
    head, parts = tables(folder)
    notes = table_of(parts, "notes")
    parts.remove(notes)
    (folder / FILE_NAME).write_text(head + notes + "".join(parts))
    content = Content.load(folder)
    assert check_content(content) == []
    questions = content.questionnaire
    assert flow.first_question(questions) == "notes"
    assert flow.next_step(questions, "notes", {}) == "areas"
    first = parse_html(views.question_reply(content.catalog("en"), 1, "notes", {}).html).text
    assert first.startswith(f"Question 1 of {len(ORDER) - 1}")
    assert "anything else" in first.lower()


def test_a_new_question_needs_its_words_in_every_language(tmp_path: Path) -> None:
    folder = clinic_copy(tmp_path)
    new = '[[intake]]\nid = "sleep_pills"\nkind = "yes_no"\ngroup = "screening"\n\n'
    rewrite(folder, '[[intake]]\nid = "notes"', new + '[[intake]]\nid = "notes"')
    problems = [str(p) for p in check_content(Content.load(folder))]
    for language in ("en", "ko"):
        assert any(
            p.startswith(f"content/{language}/questions.toml: questions.sleep_pills.prompt:")
            for p in problems
        ), problems
    with (folder / "en" / "questions.toml").open("a") as words:
        words.write('\n[sleep_pills]\nprompt = "Do you take sleeping pills?"\nshort = "Pills"\n')
    problems = [str(p) for p in check_content(Content.load(folder))]
    assert problems and all(p.startswith("content/ko/") for p in problems), problems
    content = Content.load(folder)
    assert flow.next_step(content.questionnaire, "psfs", {}) == "sleep_pills"


def test_a_red_flag_added_without_its_advice_is_reported(tmp_path: Path) -> None:
    folder = clinic_copy(tmp_path)
    new = '[[intake]]\nid = "rf_new"\nkind = "yes_no"\ngroup = "red_flag"\nurgency = "today"\n\n'
    rewrite(folder, '[[intake]]\nid = "under_18"', new + '[[intake]]\nid = "under_18"')
    problems = [str(p) for p in check_content(Content.load(folder))]
    assert any("content/en/messages.toml: safety.red_flags.rf_new:" in p for p in problems)


@pytest.mark.parametrize(
    ("edit", "new", "message"),
    [
        ('urgency = "emergency"', 'urgency = "later"', r"rf_bladder_bowel.*urgency is one of"),
        ('urgency = "emergency"\n', "", r"rf_bladder_bowel.*has an urgency"),
        ('id = "pregnancy"', 'id = "under_18"', r"under_18.*used twice"),
        ('kind = "multi"', 'kind = "many"', r"areas"),
        ('includes = "other"', 'includes = "elsewhere"', r"areas_other.*'elsewhere'"),
        ('question = "areas"', 'question = "notes"', r"areas_other.*earlier"),
        ('group = "warning_sign"', 'group = "red_flag"', r"fu_breathing.*does not belong"),
        ('id = "cause"', 'id = "trigger"', r"needs 'cause'"),
        ('loinc = "72514-3"', 'loinc = "pain"', r"intensity.*loinc"),
        (
            'loinc = "72514-3"\n\n[[intake]]\nid = "duration"',
            'loinc = "72514-3"\n\n[[intake]]\nid = "duration"\nloinc = "1-2"',
            r"duration.*loinc",
        ),
    ],
)
def test_a_broken_questionnaire_is_refused_naming_the_question(
    tmp_path: Path, edit: str, new: str, message: str
) -> None:
    folder = clinic_copy(tmp_path)
    rewrite(folder, edit, new)
    with pytest.raises(ContentError, match=message) as refused:
        Content.load(folder)
    assert FILE_NAME in str(refused.value)


def test_an_intake_at_a_removed_question_goes_on_at_the_first_unanswered(
    tmp_path: Path,
) -> None:
    folder = clinic_copy(tmp_path)
    head, parts = tables(folder)
    parts.remove(table_of(parts, "ashi_point"))
    (folder / FILE_NAME).write_text(head + "".join(parts))
    questions = Content.load(folder).questionnaire
    answered = {"areas": ["arms"], "cause": "desk", "intensity": 3, "duration": "lt_1w"}
    assert flow.current_step(questions, "ashi_point", answered) == "rf_numbness_weakness"
    assert flow.current_step(questions, "cause", answered) == "cause"
