import shutil
from pathlib import Path

import pytest

from bot.content import Content, ContentError, fill
from bot.content_check import check_content
from tests.support.process import ashi

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


def test_content_init_copies_the_shipped_texts_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "clinic"
    (target / "en").mkdir(parents=True)
    (target / "en" / "guide.toml").write_text("# the clinic's own, kept\n")
    result = ashi("content", "init", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"kept {target / 'en' / 'guide.toml'}" in result.stdout
    assert f"wrote {target / 'ko' / 'messages.toml'}" in result.stdout
    assert (target / "en" / "guide.toml").read_text() == "# the clinic's own, kept\n"
    shipped = REPO_CONTENT / "en" / "messages.toml"
    assert (target / "en" / "messages.toml").read_bytes() == shipped.read_bytes()
    again = ashi("content", "init", str(target), cwd=tmp_path)
    assert "wrote" not in again.stdout


def test_a_clinic_copy_missing_a_newer_key_says_how_to_add_it(tmp_path: Path) -> None:
    target = tmp_path / "clinic"
    assert ashi("content", "init", str(target), cwd=tmp_path).returncode == 0
    for language in ("en", "ko"):
        path = target / language / "messages.toml"
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(line for line in lines if not line.startswith("paused = ")))
    result = ashi("content", "check", cwd=tmp_path, ASHI_CONTENT_DIR=str(target))
    assert result.returncode == 1
    shipped = Content.load().catalog("en").raw("flow.paused")
    assert (
        f"{target}: content/en/messages.toml: flow.paused: en: missing text 'flow.paused':"
        f' add paused = "{shipped}" under [flow] in messages.toml'
    ) in result.stderr, result.stderr
    assert "content/ko/messages.toml: flow.paused: ko: missing text" in result.stderr
    # The bot refuses to start on it, naming the same.
    run = ashi("run", cwd=tmp_path, ASHI_CONTENT_DIR=str(target), TELEGRAM_BOT_TOKEN="1:x")
    assert run.returncode == 2
    assert "flow.paused" in run.stderr and "Traceback" not in run.stderr


def test_a_content_folder_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    result = ashi("content", "check", cwd=tmp_path, ASHI_CONTENT_DIR=str(tmp_path / "nope"))
    assert result.returncode == 2
    assert result.stderr == (
        f"ashi: ASHI_CONTENT_DIR {tmp_path / 'nope'} is not a folder: make it with"
        f" `ashi content init {tmp_path / 'nope'}`, or unset it to use the shipped texts.\n"
    )
