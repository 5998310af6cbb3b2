"""Patient- and practitioner-facing text, loaded from content/<language>/*.toml.

Texts are Telegram HTML written by the clinic; values filled into {placeholders} are
escaped here, so user-supplied text can never inject markup.
"""

from __future__ import annotations

import hashlib
import html
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
# The language every other language is checked against (it must be complete).
REFERENCE_LANGUAGE = "en"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_FILES = ("messages", "questions", "guide")


class ContentError(Exception):
    """A content file is missing, malformed or lacks a key."""


@dataclass(frozen=True)
class GuideSection:
    title: str
    body: str


def fill(template: str, params: Mapping[str, object]) -> str:
    """Replace each {name} in `template` with the HTML-escaped value of params[name]."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise ContentError(f"no value for placeholder {{{name}}}")
        return html.escape(str(params[name]), quote=False)

    return _PLACEHOLDER.sub(value, template)


def placeholders(template: str) -> set[str]:
    """The placeholder names used in a template."""
    return set(_PLACEHOLDER.findall(template))


class Catalog:
    """All texts of one language."""

    def __init__(self, language: str, data: Mapping[str, Any]) -> None:
        self.language = language
        self._data = data

    def raw(self, key: str) -> str:
        """The unfilled text at a dotted key such as 'flow.progress'."""
        node: Any = self._data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise ContentError(f"{self.language}: missing text {key!r}")
            node = node[part]
        if not isinstance(node, str):
            raise ContentError(f"{self.language}: {key!r} is not a text")
        return node

    def text(self, key: str, **params: object) -> str:
        """The text at `key` with its placeholders filled (values escaped)."""
        return fill(self.raw(key), params)

    def prompt(self, question_id: str) -> str:
        """A question as asked."""
        return self.raw(f"questions.{question_id}.prompt")

    def short(self, question_id: str) -> str:
        """A question's name in summaries."""
        return self.raw(f"questions.{question_id}.short")

    def option(self, question_id: str, code: str) -> str:
        """The label of one answer option of a question."""
        if code in ("yes", "no") and "options" not in self._data["questions"][question_id]:
            return self.raw(f"questions.yes_no.{code}")
        return self.raw(f"questions.{question_id}.options.{code}")

    def section(self, section_id: str) -> GuideSection:
        """One section of the practitioner's guide."""
        return GuideSection(
            title=self.raw(f"guide.sections.{section_id}.title"),
            body=self.raw(f"guide.sections.{section_id}.body"),
        )

    def text_keys(self) -> list[str]:
        """Every dotted key that holds a text, for checks."""
        found: list[str] = []

        def walk(node: Mapping[str, Any], prefix: str) -> None:
            for name, value in node.items():
                key = f"{prefix}{name}"
                if isinstance(value, Mapping):
                    walk(value, key + ".")
                elif isinstance(value, str):
                    found.append(key)

        walk(self._data, "")
        return found


class Content:
    """Every language's catalog, the clinic's default language, and a version hash of
    the files they came from."""

    def __init__(
        self, catalogs: Mapping[str, Catalog], version: str, default: str = REFERENCE_LANGUAGE
    ) -> None:
        for needed in {REFERENCE_LANGUAGE, default}:
            if needed not in catalogs:
                raise ContentError(f"there is no content for the language {needed!r}")
        self._catalogs = dict(catalogs)
        self.version = version
        self.default = default

    @classmethod
    def load(cls, directory: Path = CONTENT_DIR, default: str = REFERENCE_LANGUAGE) -> Content:
        """Load every language folder under `directory`; `default` serves everyone whose
        Telegram language has no content."""
        catalogs: dict[str, Catalog] = {}
        digest = hashlib.sha256()
        if not directory.is_dir():
            raise ContentError(f"content folder {directory} does not exist")
        for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
            data: dict[str, Any] = {}
            for name in _FILES:
                path = folder / f"{name}.toml"
                try:
                    raw = path.read_bytes()
                    data[name] = tomllib.loads(raw.decode("utf-8"))
                except FileNotFoundError as exc:
                    raise ContentError(f"{path}: file is missing") from exc
                except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                    raise ContentError(f"{path}: {exc}") from exc
                digest.update(f"{folder.name}/{name}\0".encode())
                digest.update(raw)
            # messages.toml holds top-level groups; questions and guide keep their file name.
            merged = {**data["messages"], "questions": data["questions"], "guide": data["guide"]}
            catalogs[folder.name] = Catalog(folder.name, merged)
        return cls(catalogs, digest.hexdigest()[:12], default)

    @property
    def languages(self) -> list[str]:
        """Language codes with content, sorted."""
        return sorted(self._catalogs)

    def language_for(self, language_code: str | None) -> str:
        """The content language for a Telegram language_code ('ko', 'ko-KR'), else the
        clinic's default."""
        base = (language_code or "").split("-")[0].lower()
        return base if base in self._catalogs else self.default

    def catalog(self, language: str | None) -> Catalog:
        """The catalog for a language or language_code, or the default language's."""
        return self._catalogs[self.language_for(language)]

    @property
    def staff(self) -> Catalog:
        """What practitioners read: the clinic's default language."""
        return self._catalogs[self.default]
