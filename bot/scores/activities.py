"""The Patient-Specific Functional Scale (PSFS, Stratford 1995) as one answer: up to three
activities the patient names in their own words, each rated 0-10 (0 = unable, 10 = as
before the problem), rated again at later visits. Plain data, no Telegram, no storage.

Stored as {"activities": [{"name": ..., "rating": 0-10 or null, "before": 0-10 or null}],
"dropped": [names]}: "before" is the rating of the visit before, quoted back; a rating of
null is still to be given. A skipped question is stored as null (not given).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from enum import StrEnum

MAX_ACTIVITIES = 3
MAX_NAME = 60  # characters of one activity: a few words
# Button codes: "<index>_<0-10>" rates an activity, "<index>_drop" drops it.
DONE = "done"
SKIP = "skip"
DROP = "drop"


class Refusal(StrEnum):
    """Why a typed activity is not taken."""

    TOO_LONG = "too_long"
    DUPLICATE = "duplicate"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class Activity:
    name: str
    rating: int | None = None  # None: not rated yet at this visit
    before: int | None = None  # the rating at the visit before, if it was carried over


@dataclass(frozen=True, slots=True)
class Activities:
    """The PSFS answer so far at one visit."""

    items: tuple[Activity, ...] = ()
    dropped: tuple[str, ...] = ()

    @property
    def rated(self) -> tuple[Activity, ...]:
        return tuple(a for a in self.items if a.rating is not None)

    @property
    def score(self) -> float | None:
        """The PSFS score: the mean of this visit's ratings, to one decimal (None with none)."""
        ratings = [a.rating for a in self.items if a.rating is not None]
        return round(sum(ratings) / len(ratings), 1) if ratings else None

    @property
    def waiting(self) -> int | None:
        """The index of the activity to be rated next, if one is."""
        return next((i for i, a in enumerate(self.items) if a.rating is None), None)

    @property
    def full(self) -> bool:
        """Whether no more activity can be added."""
        return len(self.items) >= MAX_ACTIVITIES

    @property
    def finished(self) -> bool:
        """Whether the question is answered: every activity rated and no room for more."""
        return self.waiting is None and self.full

    def to_value(self) -> dict[str, object]:
        """The answer as stored (JSON-ready)."""
        return {
            "activities": [
                {"name": a.name, "rating": a.rating, "before": a.before} for a in self.items
            ],
            "dropped": list(self.dropped),
        }

    def rate(self, index: int, rating: int) -> Activities:
        """The answer with activity `index` rated."""
        items = list(self.items)
        items[index] = replace(items[index], rating=rating)
        return replace(self, items=tuple(items))

    def drop(self, index: int) -> Activities:
        """The answer without activity `index` (no longer relevant to the patient)."""
        gone = self.items[index]
        items = self.items[:index] + self.items[index + 1 :]
        return Activities(items, (*self.dropped, gone.name))

    def add(self, typed: str) -> Activities | Refusal:
        """The answer with a newly named activity (to be rated next), or why not."""
        name = " ".join(typed.split())
        if self.full:
            return Refusal.FULL
        if len(name) > MAX_NAME:
            return Refusal.TOO_LONG
        if any(_same(name, a.name) for a in self.items):
            return Refusal.DUPLICATE
        return replace(self, items=(*self.items, Activity(name)))


@dataclass(frozen=True, slots=True)
class Pressed:
    """A button's effect: the answer now (None: skipped, not given) and whether the
    question is answered."""

    answer: Activities | None
    finished: bool


def press(answer: Activities, code: str) -> Pressed | None:
    """What a button of the question's current step does; None for a button of another step
    (pressed twice, or from an older message)."""
    waiting = answer.waiting
    if code == DONE and waiting is None and answer.items:
        return Pressed(answer, True)
    if code == SKIP and not answer.items:
        return Pressed(answer if answer.dropped else None, True)
    index, _, rest = code.partition("_")
    if waiting is None or index != str(waiting):
        return None
    if rest == DROP and answer.items[waiting].before is not None:
        dropped = answer.drop(waiting)
        return Pressed(dropped, dropped.finished)
    if rest.isascii() and rest.isdigit() and 0 <= int(rest) <= 10:
        rated = answer.rate(waiting, int(rest))
        return Pressed(rated, rated.finished)
    return None


def _same(one: str, other: str) -> bool:
    def key(name: str) -> str:
        return unicodedata.normalize("NFKC", " ".join(name.split())).casefold()

    return key(one) == key(other)


def carried_over(before: Activities | None) -> Activities:
    """A new visit's answer, starting from the activities rated at the visit before."""
    if before is None:
        return Activities()
    return Activities(tuple(Activity(a.name, None, a.rating) for a in before.rated))


def parse(value: object) -> Activities | None:
    """The PSFS answer in a stored value; None when it is not one (skipped, or malformed)."""
    if not isinstance(value, dict) or not isinstance(value.get("activities"), list):
        return None
    items = []
    for entry in value["activities"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            return None
        items.append(
            Activity(entry["name"], _rating(entry.get("rating")), _rating(entry.get("before")))
        )
    dropped = value.get("dropped", [])
    names = tuple(d for d in dropped if isinstance(d, str)) if isinstance(dropped, list) else ()
    return Activities(tuple(items), names)


def _rating(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10:
        return value
    return None


def score_of(value: object) -> float | None:
    """The PSFS score of a stored answer; None when not given (skipped, or left with an
    activity still to rate: a visit's score is of all its activities)."""
    answer = parse(value)
    if answer is None or answer.waiting is not None:
        return None
    return answer.score
