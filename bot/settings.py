"""Typed settings from the environment (and an optional .env file), validated once."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.content import SHIPPED_CONTENT, Content
from bot.intake.returning import DEFAULT_RETURNING_DAYS
from bot.scheduling.plan import (
    DEFAULT_PLAN,
    DEFAULT_QUIET_HOURS,
    STANDARD_PLAN,
    STANDARD_QUIET_HOURS,
    PlanEntry,
    QuietHours,
    parse_plan,
    parse_quiet_hours,
)

DEFAULT_API_URL = "https://api.telegram.org/bot"
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
# A phone number as people write it: digits with spaces, dashes, dots, parentheses, a leading +.
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{0,28}[0-9]$|^[0-9]$")


DEFAULT_CALENDAR_POLL_MINUTES = 10
DEFAULT_LISTEN = ("127.0.0.1", 8080)
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")  # Telegram's alphabet; 16 at least


class SettingsError(Exception):
    """One or more settings are missing or invalid; the message lists each problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    """Everything the deployer configures. Secrets are kept out of repr."""

    token: str | None
    api_url: str
    db_path: Path
    practitioner_ids: frozenset[int]
    clinic_name: str
    timezone: ZoneInfo
    clinic_address: str = ""
    bot_username: str | None = None
    reminder_plan: tuple[PlanEntry, ...] = STANDARD_PLAN
    quiet_hours: QuietHours | None = STANDARD_QUIET_HOURS
    retention_days: int | None = None
    default_language: str = "en"
    content_dir: Path = SHIPPED_CONTENT
    clinic_phone: str | None = None
    emergency_number: str | None = None
    import_exclude: re.Pattern[str] | None = None  # calendar events that are not patients
    calendar_url: str | None = None  # an iCalendar feed: a secret address, never logged
    calendar_poll: timedelta = timedelta(minutes=DEFAULT_CALENDAR_POLL_MINUTES)
    returning_days: int = DEFAULT_RETURNING_DAYS  # 0: every intake asks everything
    webhook_url: str | None = None  # `ashi run --webhook`: the address given to Telegram
    listen: tuple[str, int] = DEFAULT_LISTEN  # where the webhook's HTTP server listens
    webhook_secret: str | None = None  # Telegram sends it with every update; never logged

    def load_content(self, directory: Path | None = None) -> Content:
        """The texts in use (`directory`, else ASHI_CONTENT_DIR or the shipped ones), with
        the clinic's numbers filled in."""
        return Content.load(
            directory or self.content_dir,
            self.default_language,
            clinic_phone=self.clinic_phone,
            emergency_number=self.emergency_number,
        )

    def __repr__(self) -> str:
        return (
            f"Settings(token={'set' if self.token else 'unset'}, api_url={self.api_url!r},"
            f" db_path={str(self.db_path)!r}, practitioners={len(self.practitioner_ids)},"
            f" clinic_name={self.clinic_name!r}, timezone={self.timezone.key!r})"
        )


def load_environment(env_file: Path | None = Path(".env")) -> dict[str, str]:
    """The process environment over the values of `env_file` (if it exists)."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ)
    return values


def parse_settings(
    env: Mapping[str, str], *, require_token: bool, require_webhook: bool = False
) -> Settings:
    """Validate the settings in `env` (the webhook's too when `require_webhook`); raise
    SettingsError naming every problem."""
    problems: list[str] = []

    token = env.get("TELEGRAM_BOT_TOKEN", "").strip() or None
    if token is None and require_token:
        problems.append("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather.")
    elif token is not None and not _TOKEN.match(token):
        problems.append("TELEGRAM_BOT_TOKEN does not look like a bot token (digits:letters).")

    api_url = env.get("TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL
    if not re.match(r"^https?://[^\s/]+", api_url):
        problems.append(
            f"TELEGRAM_API_URL must be an http(s) URL such as {DEFAULT_API_URL}, got {api_url!r}."
        )

    db_path = Path(env.get("ASHI_DB_PATH", "").strip() or "data/ashi.sqlite3")

    practitioner_ids: set[int] = set()
    for part in env.get("ASHI_PRACTITIONER_IDS", "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if part.isdigit():
            practitioner_ids.add(int(part))
        else:
            problems.append(
                f"ASHI_PRACTITIONER_IDS must be comma-separated Telegram user ids, got {part!r}."
            )

    clinic_name = env.get("ASHI_CLINIC_NAME", "").strip() or "Ashi Clinic"
    if len(clinic_name) > 100:
        problems.append("ASHI_CLINIC_NAME must be at most 100 characters.")

    tz_name = env.get("ASHI_TIMEZONE", "").strip() or "UTC"
    timezone = ZoneInfo("UTC")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"ASHI_TIMEZONE must be an IANA time zone such as Europe/London, got {tz_name!r}."
        )

    clinic_address = env.get("ASHI_CLINIC_ADDRESS", "").strip()
    if len(clinic_address) > 200:
        problems.append("ASHI_CLINIC_ADDRESS must be at most 200 characters.")

    bot_username = env.get("ASHI_BOT_USERNAME", "").strip().removeprefix("@") or None
    if bot_username is not None and not re.match(r"^[A-Za-z][A-Za-z0-9_]{3,31}$", bot_username):
        problems.append(f"ASHI_BOT_USERNAME is not a Telegram bot username: {bot_username!r}.")

    reminder_plan = STANDARD_PLAN
    try:
        reminder_plan = parse_plan(env.get("ASHI_REMINDER_OFFSETS", "").strip() or DEFAULT_PLAN)
    except ValueError as exc:
        problems.append(f"ASHI_REMINDER_OFFSETS: {exc}.")

    quiet_hours = STANDARD_QUIET_HOURS
    try:
        quiet_hours = parse_quiet_hours(env.get("ASHI_QUIET_HOURS", DEFAULT_QUIET_HOURS))
    except ValueError as exc:
        problems.append(f"ASHI_QUIET_HOURS: {exc}.")

    retention_days = None
    retention = env.get("ASHI_RETENTION_DAYS", "").strip().lower()
    if retention not in ("", "off"):
        if retention.isdigit() and int(retention) > 0:
            retention_days = int(retention)
        else:
            problems.append(
                f"ASHI_RETENTION_DAYS must be a whole number of days or off, got {retention!r}."
            )

    default_language = env.get("ASHI_DEFAULT_LANGUAGE", "").strip().lower() or "en"
    if not re.match(r"^[a-z]{2,3}$", default_language):
        problems.append(
            "ASHI_DEFAULT_LANGUAGE must be a language code such as en or ko,"
            f" got {default_language!r}."
        )

    content_dir = SHIPPED_CONTENT
    configured = env.get("ASHI_CONTENT_DIR", "").strip()
    if configured:
        content_dir = Path(configured).expanduser()
        if not content_dir.is_dir():
            problems.append(
                f"ASHI_CONTENT_DIR {content_dir} is not a folder: make it with"
                f" `ashi content init {content_dir}`, or unset it to use the shipped texts."
            )

    numbers: dict[str, str | None] = {}
    for name, example in (
        ("ASHI_CLINIC_PHONE", "+44 20 7946 0000"),
        ("ASHI_EMERGENCY_NUMBER", "112"),
    ):
        value = env.get(name, "").strip() or None
        if value is not None and not _PHONE.match(value):
            problems.append(f"{name} must be a phone number such as {example}, got {value!r}.")
        numbers[name] = value

    import_exclude: re.Pattern[str] | None = None
    exclude = env.get("ASHI_IMPORT_EXCLUDE", "").strip()
    if exclude:
        try:
            import_exclude = re.compile(exclude, re.IGNORECASE)
        except re.error as exc:
            problems.append(f"ASHI_IMPORT_EXCLUDE is not a regular expression: {exc}.")

    calendar_url = env.get("ASHI_CALENDAR_URL", "").strip() or None
    if calendar_url is not None:
        if calendar_url.lower().startswith("webcal://"):  # Apple's and Outlook's way to say https
            calendar_url = "https://" + calendar_url[len("webcal://") :]
        if not re.match(r"^https?://[^\s/]+", calendar_url):
            # The value is not repeated: a calendar's secret address is a password.
            problems.append("ASHI_CALENDAR_URL must be an https:// (or webcal://) address.")
    poll_text = env.get("ASHI_CALENDAR_POLL", "").strip() or str(DEFAULT_CALENDAR_POLL_MINUTES)
    calendar_poll = timedelta(minutes=DEFAULT_CALENDAR_POLL_MINUTES)
    if not (poll_text.isascii() and poll_text.isdigit() and int(poll_text) >= 1):
        problems.append(f"ASHI_CALENDAR_POLL must be a whole number of minutes, got {poll_text!r}.")
    else:
        calendar_poll = timedelta(minutes=int(poll_text))

    returning_text = env.get("ASHI_RETURNING_DAYS", "").strip() or str(DEFAULT_RETURNING_DAYS)
    returning_days = DEFAULT_RETURNING_DAYS
    if returning_text.isascii() and returning_text.isdigit() and int(returning_text) <= 36500:
        returning_days = int(returning_text)
    else:
        problems.append(
            "ASHI_RETURNING_DAYS must be a whole number of days up to 36500 (0: off),"
            f" got {returning_text!r}."
        )

    webhook_url, listen, webhook_secret = _webhook(env, problems, required=require_webhook)

    if problems:
        raise SettingsError(problems)
    return Settings(
        token=token,
        api_url=api_url,
        db_path=db_path,
        practitioner_ids=frozenset(practitioner_ids),
        clinic_name=clinic_name,
        timezone=timezone,
        clinic_address=clinic_address,
        bot_username=bot_username,
        reminder_plan=reminder_plan,
        quiet_hours=quiet_hours,
        retention_days=retention_days,
        default_language=default_language,
        content_dir=content_dir,
        clinic_phone=numbers["ASHI_CLINIC_PHONE"],
        emergency_number=numbers["ASHI_EMERGENCY_NUMBER"],
        import_exclude=import_exclude,
        calendar_url=calendar_url,
        calendar_poll=calendar_poll,
        returning_days=returning_days,
        webhook_url=webhook_url,
        listen=listen,
        webhook_secret=webhook_secret,
    )


def _webhook_url_problem(url: str) -> str | None:
    """What is wrong with a webhook address, if anything: Telegram delivers only to HTTPS on
    ports 443, 80, 88 or 8443 (plain HTTP to this machine is taken, for testing), and the
    path is served as written."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a URL"
    local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not local and not (parts.scheme == "https" and parts.hostname):
        return "must be an https:// address Telegram can reach, such as https://bot.example.org/telegram"
    if not local and (port or 443) not in (443, 80, 88, 8443):
        return "must use a port Telegram delivers to: 443, 80, 88 or 8443"
    if parts.query or parts.fragment or not re.fullmatch(r"[A-Za-z0-9/_.~-]*", parts.path):
        return "must have a plain path (letters, digits, / _ . ~ -) and no query"
    return None


def _webhook(
    env: Mapping[str, str], problems: list[str], *, required: bool
) -> tuple[str | None, tuple[str, int], str | None]:
    """ASHI_WEBHOOK_URL, ASHI_LISTEN and ASHI_WEBHOOK_SECRET, each problem added."""
    url = env.get("ASHI_WEBHOOK_URL", "").strip() or None
    if url is not None and (problem := _webhook_url_problem(url)) is not None:
        problems.append(f"ASHI_WEBHOOK_URL {problem}, got {url!r}.")
    elif url is None and required:
        problems.append("ASHI_WEBHOOK_URL is not set: the https:// address of the webhook.")
    listen = DEFAULT_LISTEN
    text = env.get("ASHI_LISTEN", "").strip()
    if text:
        # IPv6 in brackets, as in URLs: [::1]:8080.
        found = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\s\[\]]+):(\d{1,5})", text)
        port = int(found.group(2) or found.group(4)) if found else 0
        if found and 0 < port < 65536:
            listen = (found.group(1) or found.group(3), port)
        else:
            problems.append(
                f"ASHI_LISTEN must be host:port such as 127.0.0.1:8080 or [::1]:8080, got {text!r}."
            )
    secret = env.get("ASHI_WEBHOOK_SECRET", "").strip() or None
    if secret is not None and not _WEBHOOK_SECRET.match(secret):
        # The value is not repeated: it is a password.
        problems.append(
            "ASHI_WEBHOOK_SECRET must be 16 to 256 characters of A-Z a-z 0-9 _ -"
            " (for example the output of `openssl rand -hex 32`)."
        )
    elif secret is None and required:
        problems.append(
            "ASHI_WEBHOOK_SECRET is not set: Telegram sends it with every update, and the"
            " webhook refuses requests without it (`openssl rand -hex 32` makes one)."
        )
    return url, listen, secret
