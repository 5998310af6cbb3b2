import shutil
from pathlib import Path

import pytest

from bot.content import Content, ContentError, fill
from bot.content_check import check_content
from tests.unit.test_cli import ashi

REPO_CONTENT = Path(__file__).resolve().parents[2] / "content"


def test_shipped_content_has_no_problems(content: Content) -> None:
    assert [str(p) for p in check_content(content)] == []


def test_placeholders_are_escaped() -> None:
    assert fill("Hi {name}!", {"name": "<b>&"}) == "Hi &lt;b&gt;&amp;!"


def copy_content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(REPO_CONTENT, target)
    return target


def test_broken_html_is_reported_with_language_and_key(tmp_path: Path) -> None:
    folder = copy_content(tmp_path)
    path = folder / "en" / "messages.toml"
    path.write_text(path.read_text().replace("<b>Your answers</b>", "<b>Your answers"))
    problems = [str(p) for p in check_content(Content.load(folder))]
    assert any(
        p.startswith("content/en/messages.toml: consent.welcome: invalid Telegram HTML")
        for p in problems
    )


def test_over_long_guide_section_is_reported(tmp_path: Path) -> None:
    folder = copy_content(tmp_path)
    path = folder / "en" / "guide.toml"
    text = path.read_text().replace('body = """', 'body = """' + "word " * 900, 1)
    path.write_text(text)
    problems = [str(p) for p in check_content(Content.load(folder))]
    assert any("neck_shoulders" in p and "over 4096" in p for p in problems)


def test_missing_key_in_another_language_is_reported(tmp_path: Path) -> None:
    folder = copy_content(tmp_path)
    shutil.copytree(folder / "en", folder / "xx")
    path = folder / "xx" / "messages.toml"
    path.write_text(path.read_text().replace('paused = "', 'pausedx = "'))
    problems = [str(p) for p in check_content(Content.load(folder))]
    assert "content/xx/messages.toml: flow.paused: xx: missing text 'flow.paused'" in problems


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    folder = copy_content(tmp_path)
    (folder / "en" / "questions.toml").write_text("[areas\n")
    with pytest.raises(ContentError, match=r"questions\.toml"):
        Content.load(folder)


def test_content_check_command_fails_on_a_broken_file_with_file_and_key(tmp_path: Path) -> None:
    folder = copy_content(tmp_path)
    path = folder / "en" / "questions.toml"
    path.write_text(path.read_text().replace('short = "Notes"', 'short = "<b>Notes"'))
    broken = ashi("content", "check", "--dir", str(folder), cwd=tmp_path)
    assert broken.returncode == 1
    assert "content/en/questions.toml: questions.notes.short" in broken.stderr
    good = ashi("content", "check", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("content OK: en")
