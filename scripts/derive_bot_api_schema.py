"""Derive the emulator's compact Bot API schema from the full machine-readable spec.

Usage: python scripts/derive_bot_api_schema.py IN_API_JSON OUT_SCHEMA_JSON

The full spec (api.json from PaulSonOfLars/telegram-bot-api-spec) carries prose the emulator
does not need; the compact file keeps, per method, only parameter names, their declared
types and whether they are required, so the project stands alone without ../shared.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def derive(spec: dict[str, Any]) -> dict[str, Any]:
    """Return the compact schema for a parsed full spec."""
    methods: dict[str, Any] = {}
    for name, method in spec["methods"].items():
        params = {
            field["name"]: {"required": bool(field["required"]), "types": list(field["types"])}
            for field in method.get("fields", [])
        }
        methods[name] = {"params": params}
    return {"version": spec["version"], "methods": methods}


def render(schema: dict[str, Any]) -> str:
    """Serialise deterministically: sorted keys, one method per line, so diffs stay readable."""
    lines = [
        f"  {json.dumps(name)}: {json.dumps(body, sort_keys=True, ensure_ascii=False)}"
        for name, body in sorted(schema["methods"].items())
    ]
    return (
        "{\n"
        f'"version": {json.dumps(schema["version"])},\n'
        '"methods": {\n' + ",\n".join(lines) + "\n}\n}\n"
    )


def main(argv: list[str]) -> int:
    """Command-line entry point; returns the process exit status."""
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    Path(argv[2]).write_text(render(derive(spec)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
