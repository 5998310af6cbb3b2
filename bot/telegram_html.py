"""Telegram's HTML parse mode: validation, visible text and message entities.

Follows tdlib's `parse_html` (td/telegram/MessageEntity.cpp), which the Bot API server runs
for parse_mode=HTML, and the clean-up tdlib applies before sending (`fix_formatted_text`):

- A tag name runs to the first ASCII space (space, \\t, \\r, \\n, \\v, NUL) or `>`, so
  `<b/>` or `<b` + U+00A0 is an unsupported tag; tag names and unquoted attribute values
  are lower-cased (ASCII only), attribute names are case-sensitive.
- Unquoted attribute values are name tokens (`[A-Za-z0-9.-]*`) that must end at a space
  or `>`; quoted values may contain anything but their quote and have entities decoded.
- Unknown attributes are ignored; `span` needs class `tg-spoiler`; `code` takes
  `class="language-x"` (kept only on a `pre` with the same extent); `blockquote` takes
  `expandable`; `tg-time` takes `unix` and `format`.
- `</>` closes any tag; other end tags must match the innermost open tag. Any nesting
  parses: tdlib silently rearranges entities that can't nest later.
- Empty elements make no entity and are not checked; a non-empty `tg-emoji` needs a
  nonzero int64 `emoji-id` written canonically, a non-empty `tg-time` a valid format.
- `&#N;` / `&#xN;` decode code points 1..0x10FFFE (at most 7 decimal or 6 hex digits,
  lower-case `x`); named entities are only `lt`, `gt`, `amp`, `quot`. A decoded surrogate
  is an error once the whole text has parsed.
- Error texts and byte offsets (UTF-8, in the raw input) are tdlib's.

`clean` then applies tdlib's character clean-up and trimming, and `is_empty_text` says
when tdlib calls the result empty.

Deliberately stricter than tdlib, because the Bot API documentation says how to write
these and tdlib's tolerance hides mistakes:

- a `&` that does not start a supported entity ending in `;`, and a bare `>` in text, are
  rejected: the documentation says to escape them (tdlib keeps the `&` literally, and
  decodes `&lt` without `;`); this applies inside quoted attribute values too, where tdlib
  would also silently turn `?a=1&lt=2` into `?a=1<=2`;
- `<a>` needs a non-empty `href`: without one tdlib uses the link text as the URL and
  silently drops the link when that is not a URL;
- a surrogate code point decoded in an attribute value is rejected: tdlib passes it on
  and the link or language then fails or vanishes later.

Not modelled: tdlib's URL normalisation and dropping of invalid `href`s, `tg://user?id=`
links becoming `text_mention` (and needing access to the user), and entity re-nesting.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]  # a message entity as the Bot API sends it

# Tags whose entity type needs no attribute.
_SIMPLE_TYPES = {
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
    "span": "spoiler",
}
_TAGS = frozenset({"a", "tg-emoji", "tg-time", "pre", "code", "blockquote", *_SIMPLE_TYPES})
_SPACE = " \t\r\n\v\0"  # tdlib's is_space; NUL also stands for the end of the input
_END = "\0"
_NAME_TOKEN = frozenset(string.ascii_letters + string.digits + ".-")
_ATTRIBUTE_NAME_STOP = frozenset(_SPACE + "=>/\"'")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# tdlib's limits: "&#" plus at most 7 digits, "&#x" plus at most 6; we also require ';'.
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,7})|#x([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_INT64 = range(-(2**63), 2**63)
_CANONICAL_INT_RE = re.compile(r"-?[1-9][0-9]*")
_DATE_FORMAT_RE = re.compile(r"[rR]|[tTdDwW]*")
_SURROGATE_ERROR = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)

# tdlib's clean_input_string: control characters (and \t) become spaces, '\r' goes, and
# so do U+2028..U+202E (line/paragraph separators, bidi embeddings) and three combining
# marks it treats as "vertical lines".
_CLEAN_TABLE: dict[int, str | None] = {
    **{code: " " for code in range(0x21) if code not in (0x0A, 0x0D)},
    0x0D: None,
    **{code: None for code in range(0x2028, 0x202F)},
    0x030A: None,
    0x0333: None,
    0x033F: None,
}
_BIDI_MARK_RUN_RE = re.compile("[\u200e\u200f]{2,}")
_PLAIN_RUN = re.compile("[^<>&]+")
# What tdlib's is_empty_string treats as not there at all.
_EMPTY_CHARS = frozenset(
    " \n\u00a0\u1680\u180e\u202e\u202f\u205f\u2800\u3000\ufeff\ufffc"
    + "".join(map(chr, range(0x2000, 0x2010)))
    + "".join(map(chr, range(0xE0000, 0xE0080)))
)


class HtmlParseError(ValueError):
    """Invalid Telegram HTML; the message is Telegram's "can't parse entities" detail."""


@dataclass(frozen=True)
class ParsedText:
    """Visible text plus Bot API `MessageEntity` dicts (offsets in UTF-16 code units)."""

    text: str
    entities: list[JsonDict] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    begin: int  # index of '<' in the source
    start: int  # UTF-16 offset in the visible text
    argument: str = ""  # tdlib's one value per tag: href, language, emoji id, ...
    date: int = 0  # tg-time's unix attribute


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for entity offsets."""
    # Encoding runs in C: a Python loop over every character made `ashi content check`,
    # which `ashi run` does before it starts, take seconds. A lone surrogate is one unit.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def parse_html(source: str) -> ParsedText:
    """Validate Telegram HTML and return its visible text and entities (before `clean`).

    Raises HtmlParseError with Telegram's message on the first problem.
    """
    return _Parser(source).run()


def plain_text(text: str) -> ParsedText:
    """Wrap text sent without parse_mode."""
    return ParsedText(text)


def clean(parsed: ParsedText) -> ParsedText:
    """Clean and trim text as tdlib does before sending, keeping entities aligned.

    Control characters become spaces, some invisible characters go, runs of bidi marks
    become zero-width non-joiners, then spaces and newlines are trimmed: at the end
    always, at the start only up to the first entity.
    """
    text, entities = _clean_characters(parsed)
    return _ltrim(*_rtrim(text, entities))


def is_empty_text(text: str) -> bool:
    """Whether tdlib rejects cleaned text as empty ("Text must be non-empty")."""
    return all(ch in _EMPTY_CHARS for ch in text)


def _ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, as tdlib's to_lower does."""
    return text.translate(_ASCII_LOWER)


def _is_custom_emoji_id(value: str) -> bool:
    """tdlib's check: a nonzero int64 that prints back exactly as written."""
    return bool(_CANONICAL_INT_RE.fullmatch(value)) and int(value) in _INT64


def _tdlib_int32(value: str) -> int:
    """tdlib's lenient to_integer<int32>: optional '-', leading digits, wrapped to 32 bits."""
    match = re.match(r"(-?)([0-9]*)", value)
    assert match is not None  # the pattern accepts the empty string
    sign, digits = match.groups()
    number = -int(digits or "0") if sign else int(digits or "0")
    return (number + 2**31) % 2**32 - 2**31


def _clean_characters(parsed: ParsedText) -> tuple[str, list[JsonDict]]:
    text = parsed.text.translate(_CLEAN_TABLE)
    if len(text) == len(parsed.text):
        # Nothing removed (control characters only became spaces): offsets stay as they are.
        entities = [{**entity} for entity in parsed.entities if entity["length"] > 0]
    else:
        entities = _shifted(parsed)
    text = _BIDI_MARK_RUN_RE.sub(lambda m: "\u200c" * (len(m[0]) - 1) + m[0][-1], text)
    return text, entities


def _shifted(parsed: ParsedText) -> list[JsonDict]:
    """The entities moved to where their text is once the removed characters are gone."""
    new_offset = [0]  # UTF-16 offset before cleaning -> after
    for ch in parsed.text:
        width = 2 if ord(ch) > 0xFFFF else 1
        kept = _CLEAN_TABLE.get(ord(ch), ch) is not None
        new_offset.extend([new_offset[-1] + (width if kept else 0)] * width)
    entities = []
    for entity in parsed.entities:
        start = new_offset[entity["offset"]]
        stop = new_offset[entity["offset"] + entity["length"]]
        if stop > start:
            entities.append({**entity, "offset": start, "length": stop - start})
    return entities


def _rtrim(text: str, entities: list[JsonDict]) -> tuple[str, list[JsonDict]]:
    kept = text.rstrip(" \n")
    end = utf16_len(kept)
    trimmed = [
        {**e, "length": min(e["offset"] + e["length"], end) - e["offset"]}
        for e in entities
        if e["offset"] < end
    ]
    return kept, trimmed


def _ltrim(text: str, entities: list[JsonDict]) -> ParsedText:
    # Leading whitespace inside an entity stays: tdlib stops at the first entity.
    limit = min((e["offset"] for e in entities), default=len(text))
    shift = 0
    while shift < limit and text[shift] in " \n":
        shift += 1
    moved = [{**e, "offset": e["offset"] - shift} for e in entities]
    moved.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(text[shift:], moved)


def _decode_entity(source: str, pos: int) -> tuple[str, int] | None:
    """Decode the HTML entity at source[pos] ('&'); return (text, next_pos) or None."""
    match = _ENTITY_RE.match(source, pos)
    if match is None:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return (_NAMED_ENTITIES[name], match.end()) if name in _NAMED_ENTITIES else None
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if not 0 < code < 0x10FFFF:  # tdlib leaves 0 and 0x10FFFF undecoded
        return None
    return chr(code), match.end()


def _apply_attribute(tag: _OpenTag, name: str, value: str | None) -> None:
    """Keep the attributes tdlib reads (names are case-sensitive); ignore the rest."""
    if tag.name == "blockquote" and name == "expandable":
        tag.argument = "1"
    elif value is None:
        return
    elif (tag.name, name) in (("a", "href"), ("tg-emoji", "emoji-id"), ("tg-time", "format")):
        tag.argument = value
    elif (tag.name, name) == ("code", "class") and value.startswith("language-"):
        tag.argument = value.removeprefix("language-")
    elif (tag.name, name) == ("span", "class") and value.startswith("tg-"):
        tag.argument = value.removeprefix("tg-")
    elif (tag.name, name) == ("tg-time", "unix"):
        tag.date = _tdlib_int32(value)


def _date_time_format(flags: str) -> str:
    """The Bot API's date_time_format for a tg-time format (short wins over long)."""
    if flags in ("r", "R"):
        return "r"
    date = "d" if "d" in flags else "D" if "D" in flags else ""
    time = "t" if "t" in flags else "T" if "T" in flags else ""
    return ("w" if {"w", "W"} & set(flags) else "") + date + time


def _is_plain_pre(entity: JsonDict) -> bool:
    return entity["type"] == "pre" and "language" not in entity


def _is_surrogate(ch: str) -> bool:
    return 0xD800 <= ord(ch) <= 0xDFFF


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.utf16_pos = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JsonDict] = []
        self.has_surrogate = False
        self.code_language = ""  # language of the last entity if it is a code entity

    def at(self, pos: int) -> str:
        """The character at pos, or NUL past the end (tdlib reads a C string)."""
        return self.source[pos] if pos < len(self.source) else _END

    def skip_spaces(self, pos: int) -> int:
        while self.at(pos) != _END and self.at(pos) in _SPACE:
            pos += 1
        return pos

    def byte_offset(self, pos: int) -> int:
        return len(self.source[:pos].encode("utf-8", "surrogatepass"))

    def fail(self, message: str, pos: int) -> HtmlParseError:
        return HtmlParseError(f"{message} at byte offset {self.byte_offset(pos)}")

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16_pos += utf16_len(text)

    def run(self) -> ParsedText:
        while self.pos < len(self.source):
            ch = self.source[self.pos]
            if ch == "<" and self.at(self.pos + 1) == "/":
                self.end_tag()
            elif ch == "<":
                self.start_tag()
            elif ch == "&":
                self.entity()
            elif ch == ">":
                # Stricter than tdlib, which keeps it: the Bot API docs say to escape it.
                raise self.fail("Character '>' must be escaped as &gt;", self.pos)
            else:
                # Plain text up to the next markup character, in one piece.
                run = _PLAIN_RUN.match(self.source, self.pos)
                assert run is not None  # `ch` itself is plain
                self.emit(run[0])
                self.pos = run.end()
        if self.stack:
            name = self.stack[-1].name
            raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        if self.has_surrogate:
            raise HtmlParseError(_SURROGATE_ERROR)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def entity(self) -> None:
        decoded = _decode_entity(self.source, self.pos)
        if decoded is None:
            # Stricter than tdlib, which keeps such an '&' literally: the docs say escape it.
            raise self.fail(
                "Unsupported HTML entity; a literal '&' must be escaped as &amp;", self.pos
            )
        self.has_surrogate |= _is_surrogate(decoded[0])
        self.emit(decoded[0])
        self.pos = decoded[1]

    def start_tag(self) -> None:
        begin = self.pos
        self.pos += 1
        while self.at(self.pos) not in _SPACE and self.at(self.pos) != ">":
            self.pos += 1
        if self.at(self.pos) == _END:
            raise self.fail("Unclosed start tag", begin)
        name = _ascii_lower(self.source[begin + 1 : self.pos])
        if name not in _TAGS:
            raise self.fail(f'Unsupported start tag "{name}"', begin)
        tag = _OpenTag(name, begin, self.utf16_pos)
        while self.attribute(tag):
            pass
        self.pos += 1  # the '>'
        self.check_start_tag(tag)
        self.stack.append(tag)

    def attribute(self, tag: _OpenTag) -> bool:
        """Read one attribute into tag; False when the tag's '>' comes first."""
        self.pos = self.skip_spaces(self.pos)
        if self.at(self.pos) == ">":
            return False
        name_begin = self.pos
        while self.at(self.pos) not in _ATTRIBUTE_NAME_STOP:
            self.pos += 1
        name = self.source[name_begin : self.pos]
        if not name:
            raise self.fail(f'Empty attribute name in the tag "{tag.name}"', tag.begin)
        self.pos = self.skip_spaces(self.pos)
        if self.at(self.pos) != "=":
            if self.at(self.pos) == _END:
                raise self.fail(f'Unclosed start tag "{tag.name}"', tag.begin)
            _apply_attribute(tag, name, None)
            return True
        self.pos = self.skip_spaces(self.pos + 1)
        if self.at(self.pos) == _END:
            raise self.fail(f'Unclosed start tag "{tag.name}"', tag.begin)
        quote = self.at(self.pos)
        value = self.quoted_value(quote) if quote in "\"'" else self.name_token()
        if self.at(self.pos) == _END:
            raise self.fail("Unclosed start tag", tag.begin)
        _apply_attribute(tag, name, value)
        return True

    def name_token(self) -> str:
        begin = self.pos
        while self.at(self.pos) in _NAME_TOKEN:
            self.pos += 1
        if self.at(self.pos) not in _SPACE and self.at(self.pos) != ">":
            raise self.fail("Unexpected end of name token", begin)
        return _ascii_lower(self.source[begin : self.pos])

    def quoted_value(self, quote: str) -> str:
        self.pos += 1
        value: list[str] = []
        while self.at(self.pos) not in (quote, _END):
            if self.at(self.pos) != "&":
                value.append(self.source[self.pos])
                self.pos += 1
                continue
            decoded = _decode_entity(self.source, self.pos)
            if decoded is None:  # stricter than tdlib, as in text
                raise self.fail("Unsupported HTML entity in attribute value", self.pos)
            if _is_surrogate(decoded[0]):  # stricter: see the module docstring
                raise self.fail("Surrogate code point in attribute value", self.pos)
            value.append(decoded[0])
            self.pos = decoded[1]
        if self.at(self.pos) == quote:
            self.pos += 1
        return "".join(value)

    def check_start_tag(self, tag: _OpenTag) -> None:
        if tag.name == "span" and tag.argument != "spoiler":
            raise self.fail('Tag "span" must have class "tg-spoiler"', tag.begin)
        if tag.name == "a" and not tag.argument:
            # Stricter than tdlib: see the module docstring.
            raise self.fail('Tag "a" must have a non-empty attribute "href"', tag.begin)

    def end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            raise self.fail("Unexpected end tag", begin)
        end = begin + 2
        while self.at(end) not in _SPACE and self.at(end) != ">":
            end += 1
        name = _ascii_lower(self.source[begin + 2 : end])
        end = self.skip_spaces(end)
        if self.at(end) != ">":
            raise self.fail("Unclosed end tag", begin)
        tag = self.stack[-1]
        if name and name != tag.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{tag.name}>", found "</{name}>"'
            )
        self.pos = end + 1
        self.stack.pop()
        if self.utf16_pos > tag.start:
            self.close(tag)

    def close(self, tag: _OpenTag) -> None:
        entity: JsonDict = {"type": "", "offset": tag.start, "length": self.utf16_pos - tag.start}
        if tag.name in _SIMPLE_TYPES:
            entity["type"] = _SIMPLE_TYPES[tag.name]
        elif tag.name == "tg-emoji":
            if not _is_custom_emoji_id(tag.argument):
                raise HtmlParseError("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=tag.argument)
        elif tag.name == "tg-time":
            if not _DATE_FORMAT_RE.fullmatch(tag.argument):
                raise HtmlParseError("Invalid date format used")
            if tag.date <= 0:
                return  # tdlib makes no entity for a date it can't show
            entity.update(type="date_time", unix_time=tag.date)
            entity["date_time_format"] = _date_time_format(tag.argument)
        elif tag.name == "a":
            entity.update(type="text_link", url=tag.argument)
        elif tag.name == "blockquote":
            entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
        elif tag.name in ("pre", "code"):
            self.close_pre_or_code(tag, entity)
            return
        self.entities.append(entity)
        self.code_language = ""

    def close_pre_or_code(self, tag: _OpenTag, entity: JsonDict) -> None:
        """`pre` and `code` with the same extent make one pre block with code's language."""
        last = self.entities[-1] if self.entities else {}
        same_extent = (
            last.get("offset") == entity["offset"] and last.get("length") == (entity["length"])
        )
        if same_extent and tag.name == "pre" and last["type"] == "code" and self.code_language:
            last.update(type="pre", language=self.code_language)
        elif same_extent and tag.name == "code" and tag.argument and _is_plain_pre(last):
            last["language"] = tag.argument
        else:
            entity["type"] = tag.name
            self.entities.append(entity)
            self.code_language = tag.argument if tag.name == "code" else ""
            return
        self.code_language = ""
