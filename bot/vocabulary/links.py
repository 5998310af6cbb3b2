"""Personal deep links: `t.me/<bot>?start=<token>` for one appointment."""

from __future__ import annotations

import secrets

LINK_PREFIX = "apt_"


def new_link_token() -> str:
    """An unguessable deep-link payload (A-Z a-z 0-9 _ -, well under 64 characters)."""
    return LINK_PREFIX + secrets.token_urlsafe(24)
