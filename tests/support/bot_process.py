"""`ashi run` as a restartable process against the emulator, for the crash tests."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from bot.emulator.server import BotApiEmulator


class BotProcess:
    """`python -m bot run` against the emulator, restartable on the same database."""

    def __init__(self, emulator: BotApiEmulator, tmp_path: Path) -> None:
        self.db_path = tmp_path / "ashi.sqlite3"
        self.tmp_path = tmp_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("ASHI_", "TELEGRAM_"))}
        self.env.update(
            TELEGRAM_BOT_TOKEN=emulator.token,
            TELEGRAM_API_URL=emulator.base_url,
            ASHI_DB_PATH=str(self.db_path),
            ASHI_CLINIC_NAME="Crash Clinic",
            ASHI_REMINDER_OFFSETS="intake:-60s,reminder:-59s,followup:+2s",
            ASHI_QUIET_HOURS="off",
        )
        self.runs = 0
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> float:
        """Start a new process; returns when (time.monotonic) it was spawned."""
        self.runs += 1
        spawned = time.monotonic()
        with (self.tmp_path / f"bot-{self.runs}.log").open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=self.tmp_path,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
        return spawned

    def running(self) -> bool:
        """True while the process lives; fails at once if it exited on its own."""
        assert self.process is not None
        if self.process.returncode is not None:
            raise AssertionError(f"the bot exited with {self.process.returncode}")
        return True

    async def kill(self) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.process = None

    async def stop(self) -> int:
        """Stop gracefully; returns the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        status = await asyncio.wait_for(self.process.wait(), timeout=30)
        self.process = None
        return status

    def logs(self) -> str:
        return "\n".join(
            f"--- run {n} ---\n" + (self.tmp_path / f"bot-{n}.log").read_text(errors="replace")
            for n in range(1, self.runs + 1)
        )
