"""Telegram HTML parsing in isolation."""

from __future__ import annotations

import pytest

from bot.telegram_html import HtmlParseError, clean, parse_html, plain_text, utf16_len


def test_pre_with_language_and_blockquote() -> None:
    parsed = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>\n'
        "<blockquote expandable>quote</blockquote>"
    )
    assert parsed.text == "x = 1\nquote"
    assert parsed.entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 6, "length": 5},
    ]


def test_entities_and_case_insensitive_tags() -> None:
    parsed = parse_html(
        "<B>x</B> &#x41;&#66; <tg-emoji emoji-id='5368324170671202286'>👍</tg-emoji>"
    )
    assert parsed.text == "x AB 👍"
    assert [e["type"] for e in parsed.entities] == ["bold", "custom_emoji"]
    assert parsed.entities[1]["length"] == utf16_len("👍") == 2


def test_empty_tags_produce_no_entity() -> None:
    assert parse_html("a<b></b>b").entities == []


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("é<br>", 'Unsupported start tag "br" at byte offset 2'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<b", "Unclosed start tag"),
        ("a > b", "Character '>' must be escaped"),
        ("&#0;", "Unsupported HTML entity"),
        ("<tg-emoji>👍</tg-emoji>", "Invalid custom emoji identifier specified"),
    ],
)
def test_errors(html: str, message: str) -> None:
    with pytest.raises(HtmlParseError, match=message):
        parse_html(html)


def test_unknown_attributes_are_ignored() -> None:
    # tdlib skips attributes it doesn't know instead of refusing the message.
    parsed = parse_html('<a href="x" target="_blank">y</a>')
    assert parsed.entities == [{"type": "text_link", "offset": 0, "length": 1, "url": "x"}]


def test_clean_trims_like_tdlib_keeping_entities_aligned() -> None:
    # tdlib's left trim stops at the first entity, so the space inside <b> stays.
    parsed = clean(parse_html("  <b> hi</b> there \n"))
    assert parsed.text == " hi there"
    assert parsed.entities == [{"type": "bold", "offset": 0, "length": 3}]
    assert clean(plain_text("   ")).text == ""
