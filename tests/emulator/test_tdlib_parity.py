"""Verdicts of our Telegram HTML parser and text checks against tdlib's and the Bot API's.

The rules come from tdlib's parse_html and fix_formatted_text (td/telegram/MessageEntity.cpp,
td/telegram/misc.cpp) and telegram-bot-api's Client::get_formatted_text and
get_input_message_text. Expected errors are Telegram's texts, after "Can't parse entities: ".
"""

from __future__ import annotations

import pytest

from bot.emulator.contract import check_call
from bot.emulator.models import ApiError
from bot.telegram_html import (
    HtmlParseError,
    JsonDict,
    clean,
    is_empty_text,
    parse_html,
    plain_text,
)

INVALID_EMOJI = "Invalid custom emoji identifier specified"
SURROGATES = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)


def emoji(emoji_id: str) -> str:
    return f'<tg-emoji emoji-id="{emoji_id}">👍</tg-emoji>'


@pytest.mark.parametrize(
    ("html", "error"),
    [
        # Unquoted values are name tokens [A-Za-z0-9.-]* ending at a space or '>'.
        ("<a href=http://x>y</a>", "Unexpected end of name token at byte offset 8"),
        # A tag name runs to an ASCII space or '>': U+00A0 and \f are part of it.
        ("<b\u00a0>x</b>", 'Unsupported start tag "b\u00a0" at byte offset 0'),
        ("<b\f>x</b>", 'Unsupported start tag "b\f" at byte offset 0'),
        ("<b/>", 'Unsupported start tag "b/" at byte offset 0'),
        ("é<br>", 'Unsupported start tag "br" at byte offset 2'),
        ("한<br>", 'Unsupported start tag "br" at byte offset 3'),
        ("<>", 'Unsupported start tag "" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        # Case folding is ASCII-only: KELVIN SIGN does not fold to "k".
        (
            "<bloc\u212aquote>q</blockquote>",
            'Unsupported start tag "bloc\u212aquote" at byte offset 0',
        ),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<blink", "Unclosed start tag at byte offset 0"),  # checked before the name
        ("<b\0>x</b>", "Unclosed start tag at byte offset 0"),  # NUL ends the input for tdlib
        ("<b x", 'Unclosed start tag "b" at byte offset 0'),
        ("<b x=", 'Unclosed start tag "b" at byte offset 0'),
        ("<b x=y", "Unclosed start tag at byte offset 0"),
        ('<b x="y', "Unclosed start tag at byte offset 0"),
        ('<a href="x"/>y</a>', 'Empty attribute name in the tag "a" at byte offset 0'),
        ('<b x"y">z</b>', 'Empty attribute name in the tag "b" at byte offset 0'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("x</b", "Unexpected end tag at byte offset 1"),  # the stack is checked first
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<b>x</b x>", "Unclosed end tag at byte offset 4"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        (
            "<b>x</b\u00a0>",
            'Unmatched end tag at byte offset 4, expected "</b>", found "</b\u00a0>"',
        ),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            '<span class="spoiler">x</span>',
            'Tag "span" must have class "tg-spoiler" at byte offset 0',
        ),
        # Quoted values keep their case; only unquoted name tokens are lower-cased.
        (
            '<span class="TG-SPOILER">x</span>',
            'Tag "span" must have class "tg-spoiler" at byte offset 0',
        ),
        # A non-empty tg-emoji needs a nonzero int64 that prints back as written.
        (emoji("0"), INVALID_EMOJI),
        (emoji("9223372036854775808"), INVALID_EMOJI),
        (emoji("-9223372036854775809"), INVALID_EMOJI),
        (emoji("18446744073709551617"), INVALID_EMOJI),
        (emoji("05"), INVALID_EMOJI),
        (emoji("+5"), INVALID_EMOJI),
        (emoji("-0"), INVALID_EMOJI),
        (emoji(" 5"), INVALID_EMOJI),
        (emoji(""), INVALID_EMOJI),
        ("<tg-emoji>👍</tg-emoji>", INVALID_EMOJI),
        ('<tg-emoji EMOJI-ID="5">👍</tg-emoji>', INVALID_EMOJI),  # attribute names keep case
        ('<tg-time unix="1647531900" format="x">t</tg-time>', "Invalid date format used"),
        ('<tg-time format="rt">t</tg-time>', "Invalid date format used"),
        # Decoded surrogates fail once the text has parsed, even when they pair up.
        ("&#xD83D;&#xDE00;", SURROGATES),
        ("&#55357;", SURROGATES),
    ],
)
def test_rejected_like_tdlib(html: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(html)
    assert str(caught.value) == error


@pytest.mark.parametrize(
    "html",
    [
        # tdlib keeps an undecodable '&' and a bare '>' literally; the docs say to escape them.
        "fish & chips",
        "a > b",
        "&nbsp;",
        "&LT;",  # named entities are case-sensitive
        "&#X41;",  # only a lower-case x starts a hex reference
        "&#x10FFFF;",  # tdlib decodes 1..0x10FFFE only
        "&#00000065;",  # "&#" plus 8 digits is too long for tdlib
        "&amp",  # tdlib decodes entities without ';' too
        "&#65",
        '<a href="https://x.org/?a=1&b=2">x</a>',
        '<a href="https://x.org/?a=1&lt=2">x</a>',  # tdlib would make that "?a=1<=2"
        # tdlib falls back to the link text as the URL and drops the link if it isn't one.
        "<a>no href</a>",
        '<a href="">x</a>',
        '<a HREF="https://x.org">x</a>',
        '<a href="&#xD800;">x</a>',
    ],
)
def test_deliberately_stricter_than_tdlib(html: str) -> None:
    with pytest.raises(HtmlParseError):
        parse_html(html)


def entity(kind: str, offset: int, length: int, **extra: object) -> JsonDict:
    return {"type": kind, "offset": offset, "length": length, **extra}


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ('<a href="x" target="_blank">y</a>', "y", [entity("text_link", 0, 1, url="x")]),
        ('<a href = "https://x.org" >y</a>', "y", [entity("text_link", 0, 1, url="https://x.org")]),
        ("<a href='https://x.org'>y</a>", "y", [entity("text_link", 0, 1, url="https://x.org")]),
        ("<a href=X.ORG>y</a>", "y", [entity("text_link", 0, 1, url="x.org")]),
        (
            '<a href="https://x.org/?a=1&amp;b=&quot;">y</a>',
            "y",
            [entity("text_link", 0, 1, url='https://x.org/?a=1&b="')],
        ),
        ("<B>x</B>", "x", [entity("bold", 0, 1)]),
        ("<b>x</>", "x", [entity("bold", 0, 1)]),  # an empty end tag closes any tag
        ("<b >x</b >", "x", [entity("bold", 0, 1)]),
        ("<b\tclass>x</b\n>", "x", [entity("bold", 0, 1)]),
        ("<i><b>x</b></i>", "x", [entity("bold", 0, 1), entity("italic", 0, 1)]),
        ("<code><b>x</b></code>", "x", [entity("bold", 0, 1), entity("code", 0, 1)]),
        ("<span class=TG-SPOILER>s</span>", "s", [entity("spoiler", 0, 1)]),
        ('<span class="tg-spoiler" class="x">s</span>', "s", [entity("spoiler", 0, 1)]),
        ("<blockquote expandable>q</blockquote>", "q", [entity("expandable_blockquote", 0, 1)]),
        (
            '<blockquote expandable="no">q</blockquote>',
            "q",
            [entity("expandable_blockquote", 0, 1)],
        ),
        ("<blockquote EXPANDABLE>q</blockquote>", "q", [entity("blockquote", 0, 1)]),
        (
            '<pre><code class="language-py">x</code></pre>',
            "x",
            [entity("pre", 0, 1, language="py")],
        ),
        (
            '<code class="language-py"><pre>x</pre></code>',
            "x",
            [entity("pre", 0, 1, language="py")],
        ),
        (
            '<pre>a<code class="language-py">b</code></pre>',
            "ab",
            [entity("pre", 0, 2), entity("code", 1, 1)],
        ),
        ('<code class="language-py">x</code>', "x", [entity("code", 0, 1)]),
        ('<code class="python">x</code>', "x", [entity("code", 0, 1)]),
        # Empty elements make no entity and are never checked.
        ('<tg-emoji emoji-id="0"></tg-emoji>', "", []),
        ('<tg-time format="bad"></tg-time>', "", []),
        (emoji("-5"), "👍", [entity("custom_emoji", 0, 2, custom_emoji_id="-5")]),
        (
            emoji("9223372036854775807"),
            "👍",
            [entity("custom_emoji", 0, 2, custom_emoji_id="9223372036854775807")],
        ),
        (
            emoji("-9223372036854775808"),
            "👍",
            [entity("custom_emoji", 0, 2, custom_emoji_id="-9223372036854775808")],
        ),
        (
            "<tg-emoji emoji-id=5368324170671202286>👍</tg-emoji>",
            "👍",
            [entity("custom_emoji", 0, 2, custom_emoji_id="5368324170671202286")],
        ),
        (
            '<tg-time unix="1647531900" format="wDT">t</tg-time>',
            "t",
            [entity("date_time", 0, 1, unix_time=1647531900, date_time_format="wDT")],
        ),
        (
            '<tg-time unix="1647531900" format="R">t</tg-time>',
            "t",
            [entity("date_time", 0, 1, unix_time=1647531900, date_time_format="r")],
        ),
        (
            '<tg-time unix="1647531900" format="dDtT">t</tg-time>',
            "t",
            [entity("date_time", 0, 1, unix_time=1647531900, date_time_format="dt")],
        ),
        ('<tg-time format="t">t</tg-time>', "t", []),  # no unix date: no entity
        ('<tg-time unix="-5">t</tg-time>', "t", []),
        ("&#x10FFFE;&#0000065;&#x00042;", "\U0010fffeAB", []),
        ("&quot;&lt;&gt;&amp;", '"<>&', []),
        ("&#128512;", "😀", []),
        ('<a href="not a url">x</a>', "x", [entity("text_link", 0, 1, url="not a url")]),
    ],
)
def test_accepted_like_tdlib(html: str, text: str, entities: list[JsonDict]) -> None:
    parsed = parse_html(html)
    assert (parsed.text, parsed.entities) == (text, entities)


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("a\tb\x01c", "a b c", []),  # control characters (and tabs) become spaces
        ("a\r\nb", "a\nb", []),  # '\r' is removed
        ("a\u2028b\u202ec\u0333d", "abcd", []),  # separators, bidi controls, "vertical lines"
        ("x\u200e\u200f\u200ey", "x\u200c\u200c\u200ey", []),  # bidi mark runs
        ("\u00a0x\u00a0", "\u00a0x\u00a0", []),  # only spaces and newlines are trimmed
        ("\0 \n x \n", "x", []),
        ("<b>a\rb</b>c", "abc", [entity("bold", 0, 2)]),
        ("<b>x  </b>", "x", [entity("bold", 0, 1)]),
        ("x<b> \n</b>", "x", []),
        # The left trim stops at the first entity.
        ("  <b> hi</b> there \n", " hi there", [entity("bold", 0, 3)]),
        ("\n<i>\n</i>x", "\nx", [entity("italic", 0, 1)]),
    ],
)
def test_clean_like_tdlib(html: str, text: str, entities: list[JsonDict]) -> None:
    cleaned = clean(parse_html(html))
    assert (cleaned.text, cleaned.entities) == (text, entities)


@pytest.mark.parametrize(
    ("text", "empty"),
    [
        (" \n", True),
        ("\u200b\u200c\u200d\u200e\u200f", True),
        ("\u00a0\u2000\u200a\u3000\u2800\ufeff\ufffc", True),
        ("\U000e0001\U000e007f", True),
        ("\u2060", False),
        (".", False),
    ],
)
def test_empty_text_like_tdlib(text: str, empty: bool) -> None:
    assert is_empty_text(clean(plain_text(text)).text) is empty


def call_error(method: str, **params: object) -> str | None:
    """The emulator's error description for a call, or None if it passes."""
    try:
        check_call(method, params)
    except ApiError as exc:
        return exc.description
    return None


EMPTY = "Bad Request: message text is empty"  # the Bot API server's check of the raw text
CLEANED_EMPTY = "Bad Request: text must be non-empty"  # tdlib's, after the clean-up
TOO_LONG = "Bad Request: message is too long"
RAW_TOO_LONG = "Bad Request: text is too long"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"text": ""}, EMPTY),
        ({"text": "\x00\x01\t\r\n "}, CLEANED_EMPTY),  # empty once control characters go
        ({"text": "\u200b\u00a0"}, CLEANED_EMPTY),
        ({"text": "<b> </b><i></i>", "parse_mode": "HTML"}, CLEANED_EMPTY),
        # The Bot API refuses over 32 KiB of UTF-8 as sent, before parsing.
        ({"text": "x" * 32768}, TOO_LONG),
        ({"text": "x" * 32769}, RAW_TOO_LONG),
        ({"text": "é" * 16385}, RAW_TOO_LONG),
        ({"text": "<b></b>" * 4700 + "x", "parse_mode": "HTML"}, RAW_TOO_LONG),
        # tdlib counts code points of the cleaned text against 4096.
        ({"text": "😀" * 4096}, None),
        ({"text": "😀" * 4097}, TOO_LONG),
        ({"text": "\r" * 100 + "a" * 4096 + " \n" * 100}, None),
        ({"text": "<b>" + "&amp;" * 4096 + "</b>", "parse_mode": "HTML"}, None),
        ({"text": "<b>x</b>", "parse_mode": "html"}, None),
        ({"text": "<b>", "parse_mode": "None"}, None),  # "none" means plain text
        ({"text": "x", "parse_mode": "XML"}, "Bad Request: unsupported parse_mode"),
        (
            {"text": "<a href=http://x>y</a>", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Unexpected end of name token at byte offset 8",
        ),
    ],
)
def test_message_text_checks(params: dict[str, object], error: str | None) -> None:
    assert call_error("sendMessage", **params) == error
    assert call_error("editMessageText", **params) == error


@pytest.mark.parametrize(
    ("caption", "error"),
    [
        ("  \n", None),  # captions may be empty
        ("x" * 1024, None),
        ("x" * 1025, "Bad Request: message caption is too long"),
        ("x" * 32769, RAW_TOO_LONG),
    ],
)
def test_caption_checks(caption: str, error: str | None) -> None:
    assert call_error("sendPhoto", caption=caption) == error
