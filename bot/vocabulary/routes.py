"""What a feature answers: its commands, its button verbs and, optionally, free text.

The edge builds its routing table from these (bot.edge.router); a feature never sees
another feature's verbs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from bot.vocabulary.actions import Action, Verb
from bot.vocabulary.outgoing import Outcome
from bot.vocabulary.people import Who

Command = Callable[[Who, list[str]], Awaitable[Outcome]]
# None: the button is not (or no longer) this patient's: the router answers it as stale.
ButtonHandler = Callable[[Who, Action], Awaitable[Outcome | None]]
# None: the text is not for this feature; the next one is asked.
TextHandler = Callable[[Who, str], Awaitable[Outcome | None]]


@dataclass(frozen=True)
class Routes:
    """A feature's entries: command name -> handler, verb -> handler, text handler."""

    commands: Mapping[str, Command] = field(default_factory=dict)
    buttons: Mapping[Verb, ButtonHandler] = field(default_factory=dict)
    text: TextHandler | None = None
