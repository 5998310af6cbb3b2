"""Patient- and practitioner-facing text, loaded from content/<language>/*.toml.

Texts are Telegram HTML written by the clinic; values filled into {placeholders} are
escaped here, so user-supplied text can never inject markup.
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.questionnaire import (
    FILE_NAME,
    Questionnaire,
    QuestionnaireError,
    parse_questionnaire_file,
)


def _shipped() -> Path:
    spec = importlib.util.find_spec("ashi_content")
    if spec is None or spec.origin is None:
        raise ImportError("the package ashi_content (Ashi's texts) is not installed")
    return Path(spec.origin).resolve().parent


# The texts installed with the package (content/ in the source tree, installed as the
# package ashi_content); a clinic's own copy is set by ASHI_CONTENT_DIR.
SHIPPED_CONTENT = _shipped()
# The language every other language is checked against (it must be complete).
REFERENCE_LANGUAGE = "en"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_FILES = ("messages", "questions", "guide")
# Language folders are named by their code ('en', 'ko'); anything else is not content.
_LANGUAGE_FOLDER = re.compile(r"^[a-z]{2,3}$")


class ContentError(Exception):
    """A content file is missing, malformed or lacks a key."""


@dataclass(frozen=True)
class GuideSection:
    title: str
    body: str
    self_care: str | None = None  # tips for home, left out when a doctor must come first


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


# Placeholders any text may use, filled from the clinic's settings: "call {emergency} now"
# (ASHI_EMERGENCY_NUMBER) and "contact the clinic{clinic_phone}" (ASHI_CLINIC_PHONE). The
# words around the numbers are content too, under [numbers].
CLINIC_PLACEHOLDERS = frozenset({"emergency", "clinic_phone"})


class Catalog:
    """All texts of one language."""

    def __init__(
        self,
        language: str,
        data: Mapping[str, Any],
        questionnaire: Questionnaire,
        *,
        clinic_phone: str | None = None,
        emergency_number: str | None = None,
    ) -> None:
        self.language = language
        self._data = data
        self.questionnaire = questionnaire
        self._numbers: dict[str, str] = {}
        if "numbers" in data:
            self._numbers = {
                "emergency": (
                    fill(self.raw("numbers.emergency_known"), {"number": emergency_number})
                    if emergency_number
                    else self.raw("numbers.emergency_unknown")
                ),
                "clinic_phone": (
                    fill(self.raw("numbers.clinic_phone"), {"phone": clinic_phone})
                    if clinic_phone
                    else ""
                ),
            }

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
        """The text at `key` with its placeholders filled (values escaped), the clinic's
        numbers included."""
        return fill(self.raw(key), {**self._numbers, **params})

    def words(self, key: str) -> tuple[str, ...]:
        """A list of words at a dotted key such as 'typed.yes' (plain text, none empty)."""
        node: Any = self._data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise ContentError(f"{self.language}: missing words {key!r}")
            node = node[part]
        if not isinstance(node, list) or not all(isinstance(w, str) and w.strip() for w in node):
            raise ContentError(f"{self.language}: {key!r} is not a list of words")
        return tuple(node)

    def prompt(self, question_id: str) -> str:
        """A question as asked."""
        return self.text(f"questions.{question_id}.prompt")

    def short(self, question_id: str) -> str:
        """A question's name in summaries."""
        return self.raw(f"questions.{question_id}.short")

    def option(self, question_id: str, code: str) -> str:
        """The label of one answer option of a question."""
        own = self._data["questions"].get(question_id, {})
        if code in ("yes", "no") and "options" not in own:
            return self.raw(f"questions.yes_no.{code}")
        return self.raw(f"questions.{question_id}.options.{code}")

    def section(self, section_id: str) -> GuideSection:
        """One section of the practitioner's guide."""
        key = f"guide.sections.{section_id}"
        has_tips = "self_care" in self._data["guide"]["sections"].get(section_id, {})
        return GuideSection(
            title=self.raw(f"{key}.title"),
            body=self.text(f"{key}.body"),
            self_care=self.text(f"{key}.self_care") if has_tips else None,
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
        self,
        catalogs: Mapping[str, Catalog],
        questionnaire: Questionnaire,
        version: str,
        default: str = REFERENCE_LANGUAGE,
        directory: Path = SHIPPED_CONTENT,
    ) -> None:
        for needed in {REFERENCE_LANGUAGE, default}:
            if needed not in catalogs:
                raise ContentError(f"there is no content for the language {needed!r}")
        self._catalogs = dict(catalogs)
        self.questionnaire = questionnaire
        self.version = version
        self.default = default
        self.directory = directory

    @classmethod
    def load(
        cls,
        directory: Path = SHIPPED_CONTENT,
        default: str = REFERENCE_LANGUAGE,
        *,
        clinic_phone: str | None = None,
        emergency_number: str | None = None,
    ) -> Content:
        """Load every language folder under `directory`; `default` serves everyone whose
        Telegram language has no content; the numbers fill {clinic_phone} and {emergency}."""
        catalogs: dict[str, Catalog] = {}
        digest = hashlib.sha256()
        if not directory.is_dir():
            raise ContentError(f"content folder {directory} does not exist")
        questionnaire_path = directory / FILE_NAME
        try:
            raw = questionnaire_path.read_bytes()
            questionnaire = parse_questionnaire_file(raw)
        except FileNotFoundError as exc:
            raise ContentError(_missing(questionnaire_path, directory)) from exc
        except QuestionnaireError as exc:
            raise ContentError(f"{questionnaire_path}: {exc}") from exc
        except OSError as exc:
            raise ContentError(f"{questionnaire_path}: {exc.strerror or exc}") from exc
        digest.update(f"{FILE_NAME}\0".encode())
        digest.update(raw)
        folders = [p for p in directory.iterdir() if p.is_dir() and _LANGUAGE_FOLDER.match(p.name)]
        for folder in sorted(folders):
            data: dict[str, Any] = {}
            for name in _FILES:
                path = folder / f"{name}.toml"
                try:
                    raw = path.read_bytes()
                    data[name] = tomllib.loads(raw.decode("utf-8"))
                except FileNotFoundError as exc:
                    raise ContentError(_missing(path, directory)) from exc
                except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                    raise ContentError(f"{path}: {exc}") from exc
                except OSError as exc:
                    raise ContentError(f"{path}: {exc.strerror or exc}") from exc
                digest.update(f"{folder.name}/{name}\0".encode())
                digest.update(raw)
            # messages.toml holds top-level groups; questions and guide keep their file name.
            merged = {**data["messages"], "questions": data["questions"], "guide": data["guide"]}
            catalogs[folder.name] = Catalog(
                folder.name,
                merged,
                questionnaire,
                clinic_phone=clinic_phone,
                emergency_number=emergency_number,
            )
        return cls(catalogs, questionnaire, digest.hexdigest()[:12], default, directory)

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


def _missing(path: Path, directory: Path) -> str:
    return (
        f"{path}: file is missing (`ashi content init {directory}` adds the shipped one,"
        " leaving the others as they are)"
    )


def _shipped_files(source: Path = SHIPPED_CONTENT) -> list[Path]:
    """The content files of the shipped texts, relative to their folder."""
    found = [
        path.relative_to(source)
        for path in source.rglob("*")
        if path.is_file() and (path.suffix == ".toml" or path.suffix == ".md")
    ]
    return sorted(found)


def init_content(target: Path, source: Path = SHIPPED_CONTENT) -> tuple[list[Path], list[Path]]:
    """Copy the shipped texts into `target` for a clinic to edit; files that exist there are
    never overwritten. Returns (written, kept), relative paths."""
    written: list[Path] = []
    kept: list[Path] = []
    for relative in _shipped_files(source):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            with destination.open("xb") as out:
                out.write((source / relative).read_bytes())
        except FileExistsError:
            kept.append(relative)
            continue
        written.append(relative)
    return written, kept
