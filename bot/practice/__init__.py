"""The practitioner's workspace in Telegram."""
