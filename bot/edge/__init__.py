"""The Telegram edge: the application, handlers registered from the features' tables, the
one send path, the outbox dispatcher, the Bot API transport, per-chat update processing and
the update inbox. The only place that imports python-telegram-bot."""
