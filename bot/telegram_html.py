"""Telegram's HTML parse mode: strict validation, visible text and message entities.

Accepts exactly what https://core.telegram.org/bots/api#html-style documents. It is
deliberately a little stricter than Telegram's own parser, which tolerates a bare `&` or `>`
and ignores unknown attributes: the documentation says to escape them, so the bot must.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]  # a message entity as the Bot API sends it

# Tag name -> entity type; tags that need attributes to decide are handled in _entity_for.
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    **{tag: frozenset() for tag in _SIMPLE_TAGS},
    "code": frozenset({"class"}),
    "span": frozenset({"class"}),
    "a": frozenset({"href"}),
    "blockquote": frozenset({"expandable"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_NAME_RE = re.compile(r"[a-zA-Z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[a-zA-Z0-9_-]+")


class HtmlParseError(ValueError):
    """Invalid Telegram HTML; the message mirrors Telegram's "can't parse entities" detail."""


@dataclass(frozen=True)
class ParsedText:
    """Visible text plus Bot API `MessageEntity` dicts (offsets in UTF-16 code units)."""

    text: str
    entities: list[JsonDict] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    start: int  # UTF-16 offset in the visible text
    language: str | None = None  # set on <pre> by a nested <code class="language-...">


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def parse_html(source: str) -> ParsedText:
    """Validate Telegram HTML and return its visible text and entities.

    Raises HtmlParseError with a Telegram-style message on the first problem.
    """
    return _Parser(source).run()


def plain_text(text: str) -> ParsedText:
    """Wrap text sent without parse_mode."""
    return ParsedText(text)


def trim(parsed: ParsedText) -> ParsedText:
    """Strip leading/trailing whitespace as Telegram does, keeping entities aligned."""
    stripped = parsed.text.strip()
    if stripped == parsed.text:
        return parsed
    shift = utf16_len(parsed.text[: len(parsed.text) - len(parsed.text.lstrip())])
    end = utf16_len(stripped)
    entities: list[JsonDict] = []
    for entity in parsed.entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, end)
        if stop > start:
            entities.append({**entity, "offset": start, "length": stop - start})
    return ParsedText(stripped, entities)


def _decode_entity(source: str, pos: int) -> tuple[str, int] | None:
    """Decode the HTML entity at source[pos] ('&'); return (text, next_pos) or None."""
    match = _ENTITY_RE.match(source, pos)
    if match is None:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            return None
        return _NAMED_ENTITIES[name], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.utf16_pos = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JsonDict] = []

    def byte_offset(self, pos: int) -> int:
        return len(self.source[:pos].encode("utf-8"))

    def fail(self, message: str, pos: int) -> HtmlParseError:
        return HtmlParseError(f"{message} at byte offset {self.byte_offset(pos)}")

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16_pos += utf16_len(text)

    def run(self) -> ParsedText:
        src = self.source
        while self.pos < len(src):
            ch = src[self.pos]
            if ch == "<":
                if src.startswith("</", self.pos):
                    self.end_tag()
                else:
                    self.start_tag()
            elif ch == "&":
                decoded = _decode_entity(src, self.pos)
                if decoded is None:
                    raise self.fail(
                        "Unsupported HTML entity; a literal '&' must be escaped as &amp;",
                        self.pos,
                    )
                self.emit(decoded[0])
                self.pos = decoded[1]
            elif ch == ">":
                raise self.fail("Character '>' must be escaped as &gt;", self.pos)
            else:
                self.emit(ch)
                self.pos += 1
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def start_tag(self) -> None:
        src, begin = self.source, self.pos
        match = _NAME_RE.match(src, begin + 1)
        assert match is not None  # the pattern accepts the empty string
        name = match.group().lower()
        if name not in _ALLOWED_ATTRIBUTES:
            raise self.fail(f'Unsupported start tag "{name}"', begin)
        self.pos = match.end()
        attributes: dict[str, str] = {}
        while True:
            while self.pos < len(src) and src[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(src):
                raise self.fail("Unclosed start tag", begin)
            if src[self.pos] == ">":
                self.pos += 1
                break
            attr_match = _ATTR_NAME_RE.match(src, self.pos)
            if attr_match is None:
                raise self.fail(f'Unexpected character in start tag "{name}"', self.pos)
            attr = attr_match.group().lower()
            if attr not in _ALLOWED_ATTRIBUTES[name]:
                raise self.fail(f'Unsupported attribute "{attr}" in tag "{name}"', self.pos)
            self.pos = attr_match.end()
            attributes[attr] = self.attribute_value() if src.startswith("=", self.pos) else ""
        self.check_start_tag(name, attributes, begin)
        self.stack.append(_OpenTag(name, attributes, self.utf16_pos))

    def attribute_value(self) -> str:
        src = self.source
        self.pos += 1  # skip '='
        if self.pos < len(src) and src[self.pos] in "\"'":
            quote = src[self.pos]
            close = src.find(quote, self.pos + 1)
            if close < 0:
                raise self.fail("Unclosed attribute value", self.pos)
            raw, self.pos = src[self.pos + 1 : close], close + 1
        else:
            begin = self.pos
            while self.pos < len(src) and not src[self.pos].isspace() and src[self.pos] != ">":
                self.pos += 1
            raw = src[begin : self.pos]
        value: list[str] = []
        i = 0
        while i < len(raw):
            if raw[i] == "&":
                decoded = _decode_entity(raw, i)
                if decoded is None:
                    raise self.fail("Unsupported HTML entity in attribute value", self.pos)
                value.append(decoded[0])
                i = decoded[1]
            else:
                value.append(raw[i])
                i += 1
        return "".join(value)

    def check_start_tag(self, name: str, attributes: dict[str, str], begin: int) -> None:
        if name == "a" and not attributes.get("href"):
            raise self.fail('Tag "a" must have a non-empty attribute "href"', begin)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise self.fail('Tag "span" must have class "tg-spoiler"', begin)
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise self.fail('Tag "tg-emoji" must have a numeric attribute "emoji-id"', begin)

    def end_tag(self) -> None:
        src, begin = self.source, self.pos
        match = _NAME_RE.match(src, begin + 2)
        assert match is not None
        name = match.group().lower()
        self.pos = match.end()
        while self.pos < len(src) and src[self.pos].isspace():
            self.pos += 1
        if self.pos >= len(src) or src[self.pos] != ">":
            raise self.fail("Unclosed end tag", begin)
        self.pos += 1
        if not self.stack:
            raise self.fail("Unexpected end tag", begin)
        tag = self.stack.pop()
        if tag.name != name:
            raise self.fail(
                f'Unmatched end tag, expected "</{tag.name}>", found "</{name}>"', begin
            )
        self.close(tag)

    def close(self, tag: _OpenTag) -> None:
        length = self.utf16_pos - tag.start
        language = tag.attributes.get("class", "")
        if (
            tag.name == "code"
            and language.startswith("language-")
            and self.stack
            and self.stack[-1].name == "pre"
        ):
            # <pre><code class="language-x"> is how HTML names the pre block's language.
            self.stack[-1].language = language.removeprefix("language-")
            return
        if length == 0:
            return  # Telegram drops empty entities
        entity: JsonDict = {"type": _SIMPLE_TAGS.get(tag.name, ""), "offset": tag.start}
        entity["length"] = length
        if tag.name == "span":
            entity["type"] = "spoiler"
        elif tag.name == "a":
            entity["type"] = "text_link"
            entity["url"] = tag.attributes["href"]
        elif tag.name == "blockquote":
            expandable = "expandable" in tag.attributes
            entity["type"] = "expandable_blockquote" if expandable else "blockquote"
        elif tag.name == "tg-emoji":
            entity["type"] = "custom_emoji"
            entity["custom_emoji_id"] = tag.attributes["emoji-id"]
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        self.entities.append(entity)
