"""A local fake of the Telegram Bot API for end-to-end tests and `ashi demo`."""

from bot.emulator.models import ApiCall, Button, ChatMessage, UploadedFile
from bot.emulator.ratelimit import RateLimits
from bot.emulator.server import BotApiEmulator

__all__ = ["ApiCall", "BotApiEmulator", "Button", "ChatMessage", "RateLimits", "UploadedFile"]
