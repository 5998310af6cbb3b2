"""The import graph of bot/ and storage/ follows the layer order (../shared/ARCHITECTURE.md):
each module imports only its own layer and those below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lowest first. Features are ordered too: a later feature may use an earlier one's views
# (the practitioner's workspace shows intakes and appointments), never the reverse.
LAYERS: list[tuple[str, ...]] = [
    ("storage",),
    ("bot.content", "bot.questionnaire", "bot.telegram_html", "bot.logs"),
    ("bot.scores",),  # what a score is and how its change is judged: plain data
    ("bot.vocabulary",),
    ("bot.records",),
    ("bot.outcomes",),  # a patient's course: shown by the intake and the practitioner
    ("bot.intake",),
    ("bot.scheduling",),
    ("bot.account",),
    ("bot.practice",),
    ("bot.settings",),  # the message plan and quiet hours are scheduling's
    ("bot.edge",),
    (
        "bot.cli",
        "bot.runner",
        "bot.demo",
        "bot.appointments_cli",
        "bot.records_cli",
        "bot.content_check",
        "bot.handouts",
        "bot.private_files",
        "bot.__main__",
    ),
]
# The emulator stands beside the product: it may use the Telegram HTML rules below it, and
# only `ashi demo` (and the tests) may use it.
EMULATOR = "bot.emulator"
EMULATOR_USERS = ("bot.demo", "bot.cli")
TELEGRAM_USERS = ("bot.edge", "bot.runner", "bot.demo", "bot.emulator", "bot.appointments_cli")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int | None:
    if module == "bot":
        return 0  # the package itself: empty
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from bot import render` names a module too.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sources() -> list[Path]:
    return sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("storage/**/*.py")])


def own(name: str) -> bool:
    return name == "storage" or name.startswith(("storage.", "bot."))


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_downwards_only(path: Path) -> None:
    importer = module_name(path)
    names = {
        n for n in imports(path) if own(n) and (layer_of(n) is not None or n.startswith(EMULATOR))
    }
    if importer.startswith(EMULATOR):
        upward = {n for n in names if not n.startswith(EMULATOR) and (layer_of(n) or 0) > 1}
        assert upward == set(), f"the emulator uses the product: {sorted(upward)}"
        return
    level = layer_of(importer)
    assert level is not None, f"{importer} belongs to no layer: add it to LAYERS"
    upward = {n for n in names if not n.startswith(EMULATOR) and (layer_of(n) or 0) > level}
    assert upward == set(), f"{importer} imports from higher layers: {sorted(upward)}"
    if not importer.startswith(EMULATOR_USERS):
        assert not {n for n in names if n.startswith(EMULATOR)}, f"{importer} uses the emulator"


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_edge_speaks_telegram(path: Path) -> None:
    importer = module_name(path)
    if importer.startswith(TELEGRAM_USERS):
        return
    telegram = {n for n in imports(path) if n == "telegram" or n.startswith("telegram.")}
    assert telegram == set(), f"{importer} imports python-telegram-bot"
