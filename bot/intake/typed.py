"""An answer typed where buttons were offered: taken when it is unambiguous (a number on a
0-10 scale, yes or no in a word the patient's language uses for it, an option's label in
full or a clear beginning of it), never guessed.

Plain domain code: the words come from the catalog (`typed.yes`, `typed.no`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.content import Catalog
from bot.questionnaire import Kind, Question
from bot.vocabulary import rendering
from bot.vocabulary.outgoing import Reply

# "7", "7/10", "7 / 10"
_SCALE = re.compile(r"^(\d{1,2})(?:\s*/\s*10)?$")
# A prefix shorter than this is no clear beginning of a label.
MIN_PREFIX = 2
TYPED_KINDS = frozenset({Kind.CHOICE, Kind.YES_NO, Kind.SCALE})


@dataclass(frozen=True, slots=True)
class Typed:
    """What typed text means for a question: one answer code, or several it could be (none
    for text that fits no answer)."""

    code: str | None
    candidates: tuple[str, ...] = ()


def normal(text: str) -> str:
    """Text as compared: compatibility forms folded (full-width digits), no case, single
    spaces, no punctuation at the end."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).rstrip(".!?\u3002")  # NFKC folded the full-width ones


def typed_answer(catalog: Catalog, question: Question, text: str) -> Typed:
    """The answer `text` gives to a one-tap question, if it gives one."""
    said = normal(text)
    if question.kind is Kind.SCALE:
        found = _SCALE.match(said)
        if found and int(found.group(1)) <= 10:
            return Typed(str(int(found.group(1))))
        return Typed(None)
    labels = {code: normal(catalog.option(question.id, code)) for code in question.codes}
    if question.kind is Kind.YES_NO:
        # Only a clear yes or no counts (a red flag above all): no beginnings of words.
        for code in question.codes:
            if said == labels[code] or said in (normal(w) for w in catalog.words(f"typed.{code}")):
                return Typed(code)
        return Typed(None)
    exact = [code for code, label in labels.items() if said == label]
    if exact:
        return Typed(exact[0])
    if len(said) < MIN_PREFIX:
        return Typed(None)
    starting = tuple(code for code, label in labels.items() if label.startswith(said))
    if len(starting) == 1:
        return Typed(starting[0])
    return Typed(None, starting)


def hint(catalog: Catalog, typed: Typed) -> Reply:
    """What a patient is told when their text gave no answer (the buttons follow)."""
    return Reply(catalog.text("flow.typed_which" if typed.candidates else "flow.use_buttons"))


def said_back(catalog: Catalog, question_id: str, value: object) -> Reply:
    """How a typed answer was read, told before the next question."""
    label = rendering.answer_label(catalog, question_id, value)
    return Reply(catalog.text("flow.chosen", answer=label))
