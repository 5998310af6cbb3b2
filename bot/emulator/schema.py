"""The compact Bot API schema and the generic per-call contract check it allows.

Parameters arrive in one of three encodings: JSON bodies (typed values), form-urlencoded or
multipart bodies (every value a string; PTB JSON-encodes objects, arrays, numbers and booleans
and sends strings raw) and multipart file parts. `BotApiSchema.validate` accepts all three and
returns the values decoded to Python objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from bot.emulator.models import UploadedFile, contract_violation

SCHEMA_FILE = "bot_api_schema.json"
_PRIMITIVES = frozenset({"Integer", "Float", "Boolean", "String"})


@dataclass(frozen=True)
class ParamSpec:
    """Declared types (alternatives, in spec order) and whether the parameter is required."""

    types: tuple[str, ...]
    required: bool


class BotApiSchema:
    """Method signatures from the compact schema written by scripts/derive_bot_api_schema.py."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = data["version"]
        self.methods: dict[str, dict[str, ParamSpec]] = {
            name: {
                pname: ParamSpec(tuple(p["types"]), bool(p["required"]))
                for pname, p in body["params"].items()
            }
            for name, body in data["methods"].items()
        }
        # Telegram matches method names case-insensitively.
        self._by_lower = {name.lower(): name for name in self.methods}

    @classmethod
    def load(cls, path: Path | None = None) -> BotApiSchema:
        """Load the schema bundled with the package, or the one at `path`."""
        if path is not None:
            text = path.read_text(encoding="utf-8")
        else:
            text = resources.files("bot.emulator").joinpath(SCHEMA_FILE).read_text("utf-8")
        return cls(json.loads(text))

    def canonical_name(self, method: str) -> str | None:
        """The spec's spelling of `method`, or None when the Bot API has no such method."""
        return self._by_lower.get(method.lower())

    def validate(self, method: str, raw: Mapping[str, object]) -> dict[str, object]:
        """Check names, presence and types of `raw` params; return them decoded.

        Raises a contract-violation ApiError naming the first problem found.
        """
        spec = self.methods[method]
        for name in raw:
            if name not in spec:
                raise contract_violation(f"unknown parameter '{name}'")
        decoded: dict[str, object] = {}
        for name, param in spec.items():
            if name not in raw:
                if param.required:
                    raise contract_violation(f"missing required parameter '{name}'")
                continue
            decoded[name] = coerce_any(name, raw[name], param.types)
        return decoded


def coerce_any(name: str, value: object, types: tuple[str, ...]) -> object:
    """Decode `value` as the first of `types` it matches."""
    for type_name in types:
        try:
            return coerce(value, type_name)
        except ValueError:
            continue
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise contract_violation(f"parameter '{name}' must be {' or '.join(types)}, got {shown}")


def coerce(value: object, type_name: str) -> object:
    """Decode one value as a Bot API type; raise ValueError if it does not fit."""
    if type_name == "InputFile":
        if isinstance(value, UploadedFile | str) and value != "":
            return value
        raise ValueError(type_name)
    if isinstance(value, UploadedFile):
        raise ValueError("a file part is only valid for InputFile")
    if type_name in _PRIMITIVES:
        return _coerce_primitive(value, type_name)
    if type_name.startswith("Array of "):
        items = _json_value(value)
        if not isinstance(items, list):
            raise ValueError("not a JSON array")
        item_type = type_name.removeprefix("Array of ")
        return [coerce(item, item_type) for item in items]
    obj = _json_value(value)
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    return obj


def _coerce_primitive(value: object, type_name: str) -> object:
    if type_name == "String":
        if isinstance(value, str):
            return value
        raise ValueError(type_name)
    if type_name == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(type_name)
    if type_name == "Integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            return int(value.strip(), 10)  # ValueError for "1.5", "abc", ""
        raise ValueError(type_name)
    # Float
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return float(value)
    raise ValueError(type_name)


def _json_value(value: object) -> object:
    """Decode a JSON-encoded form value; values from JSON bodies are already decoded."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError("not JSON") from exc
