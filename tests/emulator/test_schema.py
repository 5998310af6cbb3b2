"""The committed compact schema, and the generic type checks built on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.emulator.models import ApiError, UploadedFile
from bot.emulator.schema import BotApiSchema

REPO_ROOT = Path(__file__).resolve().parents[2]
FULL_SPEC = REPO_ROOT.parent / "shared" / "telegram-bot-api" / "api.json"
COMPACT = REPO_ROOT / "bot" / "emulator" / "bot_api_schema.json"


@pytest.mark.skipif(not FULL_SPEC.exists(), reason=f"full Bot API spec not found at {FULL_SPEC}")
def test_committed_schema_matches_full_spec(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    script = REPO_ROOT / "scripts" / "derive_bot_api_schema.py"
    subprocess.run([sys.executable, str(script), str(FULL_SPEC), str(out)], check=True)
    assert out.read_text(encoding="utf-8") == COMPACT.read_text(encoding="utf-8"), (
        "bot/emulator/bot_api_schema.json is stale: run `make schema`"
    )


def test_bundled_schema_loads() -> None:
    schema = BotApiSchema.load()
    assert schema.version.startswith("Bot API")
    assert schema.canonical_name("SENDMESSAGE") == "sendMessage"
    assert schema.canonical_name("sendFoo") is None
    params = schema.methods["sendMessage"]
    assert params["chat_id"].types == ("Integer", "String")
    assert params["text"].required
    assert not params["parse_mode"].required


def test_validate_decodes_form_values() -> None:
    schema = BotApiSchema.load()
    upload = UploadedFile("a.pdf", b"x", "application/pdf")
    decoded = schema.validate(
        "sendDocument",
        {
            "chat_id": "-100",
            "document": upload,
            "disable_notification": "false",
            "reply_markup": '{"inline_keyboard": []}',
        },
    )
    assert decoded == {
        "chat_id": -100,
        "document": upload,
        "disable_notification": False,
        "reply_markup": {"inline_keyboard": []},
    }
    assert schema.validate("sendMessage", {"chat_id": "@channel", "text": "x"})["chat_id"] == (
        "@channel"
    )


@pytest.mark.parametrize(
    ("method", "params", "problem"),
    [
        ("getMe", {"x": "1"}, "unknown parameter 'x'"),
        ("sendMessage", {"chat_id": "1"}, "missing required parameter 'text'"),
        ("sendMessage", {"chat_id": "1", "text": "t", "reply_markup": "[1]"}, "reply_markup"),
        ("sendMessage", {"chat_id": "1", "text": "t", "entities": "{}"}, "Array of MessageEntity"),
        ("sendMessage", {"chat_id": "1", "text": UploadedFile("a", b"", "")}, "'text'"),
        ("getUpdates", {"allowed_updates": "[1]"}, "Array of String"),
    ],
)
def test_validate_rejects(method: str, params: dict[str, object], problem: str) -> None:
    with pytest.raises(ApiError) as caught:
        BotApiSchema.load().validate(method, params)
    assert caught.value.violation
    assert caught.value.error_code == 400
    assert problem in caught.value.description
