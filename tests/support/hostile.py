"""Hostile input: texts and forged button data that must be answered safely."""

from __future__ import annotations

from hypothesis import strategies as st

from bot.vocabulary.actions import Verb
from tests.support.questionnaire import ORDER

HOSTILE_TEXTS = (
    "",
    "   ",
    "x" * 4096,
    "é" * 1001,
    "😀🧘‍♀️🇰🇷" * 50,
    "مرحبا، ألم في الظهر \u202eعكس\u202c",
    "שלום כאב בגב",
    "\x00\x01\x07\x1b[31m\u200b\u2028\u2029\ufeff",
    "<b>bold</b><a href='https://evil.example'>x</a><script>alert(1)</script>",
    "*bold* _it_ `code` [link](https://evil.example) ||spoiler||",
    "&amp; &lt; &#x3C; &unknown; <",
    "/start",
    "/start ../../etc/passwd",
    "1; DROP TABLE answers; --",
)


def forged_data() -> st.SearchStrategy[str]:
    """Callback data a client could send: random, or well-formed actions with random ids."""
    structured = st.builds(
        lambda verb, owner, question, code: f"{verb}:{owner}:{question}:{code}",
        st.sampled_from([v.value for v in Verb] + ["z", ""]),
        st.sampled_from(["0", "1", "2", "3", "1001", "-1", "x", "99999999999999999999"]),
        st.sampled_from([*ORDER[:4], "fu_soreness", "", "nope"]),
        st.sampled_from(["yes", "no", "go", "again", "ok", "other", "7", "en", "ko", "xx", ""]),
    )
    return structured | st.text(max_size=64)


INTAKE_VERBS = {Verb.ANSWER, Verb.TOGGLE, Verb.DONE, Verb.SKIP, Verb.SUMMARY, Verb.RESUME}
