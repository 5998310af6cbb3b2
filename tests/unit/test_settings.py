from datetime import timedelta
from pathlib import Path

import pytest

from bot.settings import DEFAULT_API_URL, SettingsError, load_environment, parse_settings

TOKEN = "123456:ABC-def_123"


def test_defaults_without_a_token_for_offline_verbs() -> None:
    settings = parse_settings({}, require_token=False)
    assert settings.token is None
    assert settings.api_url == DEFAULT_API_URL
    assert settings.db_path == Path("data/ashi.sqlite3")
    assert settings.practitioner_ids == frozenset()
    assert settings.timezone.key == "UTC"


def test_every_problem_is_reported_at_once() -> None:
    env = {
        "TELEGRAM_API_URL": "ftp://x",
        "ASHI_PRACTITIONER_IDS": "12, bob",
        "ASHI_TIMEZONE": "Mars/Olympus",
    }
    with pytest.raises(SettingsError) as caught:
        parse_settings(env, require_token=True)
    problems = "\n".join(caught.value.problems)
    assert "TELEGRAM_BOT_TOKEN is not set" in problems
    assert "TELEGRAM_API_URL" in problems
    assert "'bob'" in problems
    assert "Mars/Olympus" in problems


def test_full_configuration_is_parsed() -> None:
    settings = parse_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/bot",
            "ASHI_DB_PATH": "/tmp/x.sqlite3",
            "ASHI_PRACTITIONER_IDS": "111, 222",
            "ASHI_CLINIC_NAME": "Seoul Needle Clinic",
            "ASHI_TIMEZONE": "Asia/Seoul",
        },
        require_token=True,
    )
    assert settings.practitioner_ids == {111, 222}
    assert settings.timezone.key == "Asia/Seoul"
    assert TOKEN not in repr(settings)


def test_env_file_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ASHI_CLINIC_NAME=From File\nASHI_TIMEZONE=Asia/Seoul\n")
    monkeypatch.setenv("ASHI_TIMEZONE", "Europe/Paris")
    values = load_environment(env_file)
    assert values["ASHI_CLINIC_NAME"] == "From File"
    assert values["ASHI_TIMEZONE"] == "Europe/Paris"


def test_the_calendar_feed_settings() -> None:
    default = parse_settings({}, require_token=False)
    assert default.calendar_url is None and default.calendar_poll == timedelta(minutes=10)
    secret = "webcal://calendar.example.org/private-3f9a/basic.ics"
    settings = parse_settings(
        {"ASHI_CALENDAR_URL": secret, "ASHI_CALENDAR_POLL": "5", "ASHI_IMPORT_EXCLUDE": "lunch"},
        require_token=False,
    )
    assert settings.calendar_url == "https://calendar.example.org/private-3f9a/basic.ics"
    assert settings.calendar_poll == timedelta(minutes=5)
    assert settings.import_exclude is not None and settings.import_exclude.search("LUNCH break")
    assert "private-3f9a" not in repr(settings)
    with pytest.raises(SettingsError) as caught:
        parse_settings(
            {
                "ASHI_CALENDAR_URL": "ftp://x/private-3f9a",
                "ASHI_CALENDAR_POLL": "0",
                "ASHI_IMPORT_EXCLUDE": "(",
            },
            require_token=False,
        )
    problems = "\n".join(caught.value.problems)
    assert "ASHI_CALENDAR_URL must be an https://" in problems
    assert "private-3f9a" not in problems  # the address is a password
    assert "ASHI_CALENDAR_POLL must be a whole number of minutes, got '0'" in problems
    assert "ASHI_IMPORT_EXCLUDE is not a regular expression" in problems


def test_the_webhook_settings_are_required_for_a_webhook_and_checked() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, require_token=True, require_webhook=True)
    problems = "\n".join(caught.value.problems)
    assert (
        "ASHI_WEBHOOK_URL is not set" in problems and "ASHI_WEBHOOK_SECRET is not set" in problems
    )
    secret = "0123456789abcdef-_SECRET"
    env = {
        "ASHI_WEBHOOK_URL": "https://bot.example.org/telegram",
        "ASHI_LISTEN": "0.0.0.0:8443",
        "ASHI_WEBHOOK_SECRET": secret,
    }
    settings = parse_settings(env, require_token=False, require_webhook=True)
    assert settings.webhook_url == "https://bot.example.org/telegram"
    assert settings.listen == ("0.0.0.0", 8443) and settings.webhook_secret == secret
    assert secret not in repr(settings)
    bad = {
        "ASHI_WEBHOOK_URL": "http://bot.example.org/telegram",
        "ASHI_LISTEN": "8443",
        "ASHI_WEBHOOK_SECRET": "short",
    }
    with pytest.raises(SettingsError) as caught:
        parse_settings(bad, require_token=False)
    problems = "\n".join(caught.value.problems)
    assert "ASHI_WEBHOOK_URL must be an https://" in problems
    assert "ASHI_LISTEN must be host:port" in problems
    assert (
        "ASHI_WEBHOOK_SECRET must be 16 to 256 characters" in problems and "short" not in problems
    )
    for url, says in (
        ("https://bot.example.org:8080/telegram", "a port Telegram delivers to"),
        ("https://bot.example.org/tele gram?x=1", "a plain path"),
    ):
        with pytest.raises(SettingsError, match=says):
            parse_settings({"ASHI_WEBHOOK_URL": url}, require_token=False)
    assert parse_settings({"ASHI_LISTEN": "[::1]:8443"}, require_token=False).listen == (
        "::1",
        8443,
    )
    # Polling needs none of them, and the default listens on this machine only.
    assert parse_settings({}, require_token=False).listen == ("127.0.0.1", 8080)
