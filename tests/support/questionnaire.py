"""The shipped questionnaire as the tests read it: its order, questions and groups."""

from bot.content import Content
from bot.questionnaire import Group, Question, Urgency

SHIPPED = Content.load().questionnaire
ORDER = SHIPPED.order
QUESTIONS: dict[str, Question] = {q.id: q for q in SHIPPED.intake}
FOLLOWUP_QUESTIONS = SHIPPED.followup
FOLLOWUP_WARNING_SIGNS = tuple(q.id for q in SHIPPED.in_group(Group.WARNING_SIGN))
RED_FLAG_URGENCY: dict[str, Urgency] = {
    q.id: q.urgency for q in SHIPPED.in_group(Group.RED_FLAG) if q.urgency is not None
}


def questions_in(group: Group) -> list[Question]:
    """The shipped questions of one group, in asking order."""
    return SHIPPED.in_group(group)
