"""`ashi` as a separate process: from the source tree, or the installed package under test.

With ASHI_INSTALLED set (to an installed `ashi` executable, as `make test-installed` does),
every process these helpers start is that installed program, run outside the checkout.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


def ashi_command() -> list[str]:
    """The command that runs `ashi`."""
    installed = os.environ.get("ASHI_INSTALLED")
    return [installed] if installed else [sys.executable, "-m", "bot"]


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any Ashi or Telegram setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASHI_", "TELEGRAM_"))}
    env.pop("ASHI_INSTALLED", None)
    return {**env, **settings}


def ashi(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run one `ashi` verb to its end."""
    return subprocess.run(
        [*ashi_command(), *args],
        cwd=cwd,
        env=clean_environment(**settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass
class Running:
    """An `ashi` process in the background; its output goes to files (a pipe nobody reads
    could fill up and stall it)."""

    process: asyncio.subprocess.Process
    stdout: Path
    stderr: Path

    def output(self) -> str:
        """Everything it printed so far, stdout then stderr."""
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    async def ended(self, within: float) -> int:
        """Its exit status; fails if it is still running after `within` seconds."""
        try:
            return await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            raise AssertionError(f"ashi still running after {within} s:\n{self.output()}") from None

    async def stop(self) -> None:
        """Kill it if it still runs (test clean-up)."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def start_ashi(*args: str, cwd: Path, name: str = "ashi", **settings: str) -> Running:
    """Start `ashi ARGS` in the background with these settings."""
    stdout, stderr = cwd / f"{name}.stdout", cwd / f"{name}.stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            *ashi_command(),
            *args,
            cwd=cwd,
            env=clean_environment(**settings),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    return Running(process, stdout, stderr)
