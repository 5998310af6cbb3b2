"""`make bench` / `python -m bench.run [--patients N] [--messages M]`: prints JSON figures.

Every run starts a fresh emulator in this process (with the simulated patients) and the bot
under test in a child process (bench.botproc), talking over real HTTP on 127.0.0.1:
  1. baseline (bare PTB), closed loop then open loop;
  2. Ashi with N full intakes, closed loop then open loop (emulator and bot limits lifted);
  3. Ashi as shipped (its 30/s AIORateLimiter on), closed loop, a few patients;
  4. reminder dispatch of M due messages with the emulator enforcing 30/s and 1/s per chat,
     as shipped (nobody else talking to the bot: PER_SECOND), then at the pace it keeps
     while patients are being answered (SHARED_PER_SECOND);
  5. mixed load as shipped: N patients completing intakes (open loop) while the M
     reminders are due, the emulator enforcing Telegram's limits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench import dispatch
from bench.patients import Flow, Patient, Tracker, ashi_intake, baseline_conversation
from bot.edge.dispatch import PER_SECOND, SHARED_PER_SECOND
from bot.emulator.ratelimit import RateLimits, is_sending_method
from bot.emulator.server import BotApiEmulator
from storage import Storage

PRACTITIONER_ID = 777
FIRST_PATIENT = 10_001
THINK_SECONDS = 2.0  # open loop: each action waits uniform(0, 2) s


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class BotProcess:
    """The bot under test: `python -m bench.botproc ...`, stopped with SIGTERM."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.process: asyncio.subprocess.Process | None = None
        self.stats: dict[str, Any] = {}

    async def start(self, emulator: BotApiEmulator) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.botproc",
            *self.args,
            "--api-url",
            emulator.base_url,
            "--token",
            emulator.token,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
        )

        def ready() -> bool:
            assert self.process is not None
            if self.process.returncode is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode}")
            return emulator.is_polling

        await emulator.wait_for(ready, timeout=60)

    async def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        stdout, _ = await asyncio.wait_for(self.process.communicate(), timeout=60)
        if self.process.returncode != 0:
            raise RuntimeError(f"the bot exited with {self.process.returncode}")
        self.stats = json.loads(stdout.decode().strip().splitlines()[-1])


@asynccontextmanager
async def running(
    args: list[str], rate_limits: RateLimits | None
) -> AsyncIterator[tuple[BotApiEmulator, BotProcess]]:
    emulator = BotApiEmulator(rate_limits=rate_limits)
    await emulator.start()
    bot = BotProcess(args)
    try:
        await bot.start(emulator)
        try:
            yield emulator, bot
        finally:
            await bot.stop()
    finally:
        await emulator.stop()
    if emulator.violations:
        raise RuntimeError(f"Bot API contract violations: {emulator.violations[:5]}")


async def conversations(
    args: list[str], flow: Flow, patients: int, *, think: float, seed: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """N patients each going through `flow`; returns (figures, bot process stats)."""
    cpu_before = time.process_time()
    async with running(args, rate_limits=None) as (emulator, bot):
        tracker = Tracker(emulator)
        if "ashi" in args:
            practitioner = Patient(tracker, PRACTITIONER_ID, random.Random(0))
            await practitioner.send("/help")  # a bot can only write to who wrote first
            tracker.tracked.discard(PRACTITIONER_ID)
        rng = random.Random(seed)
        people = [
            Patient(tracker, FIRST_PATIENT + i, random.Random(rng.random()), think=think)
            for i in range(patients)
        ]
        await asyncio.gather(*(flow(p) for p in people))
        figures = tracker.summary({p.id for p in people})
        figures["bot_api_errors"] = len(tracker.errors)
    figures["bot_cpu_seconds"] = bot.stats["cpu_seconds"]
    # The emulator and the simulated patients, in this process: the other side of the wire.
    figures["emulator_cpu_seconds"] = round(time.process_time() - cpu_before, 2)
    return figures, bot.stats


async def completed_intakes(db_path: Path) -> int:
    storage = await Storage.open(db_path)
    try:
        return await storage.count_intakes(completed=True)
    finally:
        await storage.close()


def db_bytes(db_path: Path) -> int:
    return sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*") if p.is_file())


async def ashi_intakes(
    tmp: Path, name: str, patients: int, *, think: float, seed: int, lifted: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    db_path = tmp / f"{name}.sqlite3"
    args = ["ashi", "--db", str(db_path), "--practitioner", str(PRACTITIONER_ID)]
    args += ["--lift-bot-limits"] if lifted else []
    if os.environ.get("BENCH_PROFILE"):
        args += ["--profile", str(Path(os.environ["BENCH_PROFILE"]) / f"{name}.txt")]
    figures, stats = await conversations(args, ashi_intake, patients, think=think, seed=seed)
    done = await completed_intakes(db_path)
    if done != patients:
        raise RuntimeError(f"{name}: {done} intakes completed, expected {patients}")
    figures["intakes_completed"] = done
    figures["db_bytes"] = db_bytes(db_path)
    return figures, stats


async def reminders(
    tmp: Path, messages: int, per_second: float | None, deadline: float
) -> dict[str, object]:
    db_path = tmp / f"dispatch-{per_second or 'default'}.sqlite3"
    patients = max(1, min(messages, max(100, messages // 5)))
    emulator = BotApiEmulator(rate_limits=RateLimits())
    await emulator.start()
    try:
        booked = await dispatch.prepare(emulator, db_path, messages, patients)
        args = ["ashi", "--db", str(db_path)]
        args += ["--dispatch-rate", str(per_second)] if per_second else []
        bot = BotProcess(args)
        await bot.start(emulator)
        try:
            await emulator.wait_for(
                lambda: dispatch.all_delivered(emulator, booked), timeout=deadline
            )
            await asyncio.sleep(2.0)  # let any duplicate show up
        finally:
            await bot.stop()
        figures = dispatch.measure(emulator, booked, per_second or PER_SECOND)
        figures["patients"] = patients
        figures["outbox"] = dict(await dispatch.outbox_statuses(db_path))
        figures["peak_rss_mb"] = bot.stats["peak_rss_mb"]
    finally:
        await emulator.stop()
    return figures


async def mixed(tmp: Path, patients: int, messages: int, *, seed: int) -> dict[str, Any]:
    """N patients answering (open loop) while M reminders are due, bot and emulator as
    shipped and as Telegram is: every message the bot sent per second as a fraction of 30,
    the patients' reply latency, refusals, and the reminders' duplicates and losses."""
    db_path = tmp / "mixed.sqlite3"
    emulator = BotApiEmulator(rate_limits=RateLimits())
    await emulator.start()
    try:
        booked = await dispatch.prepare(emulator, db_path, messages, max(100, messages // 5))
        tracker = Tracker(emulator)
        bot = BotProcess(["ashi", "--db", str(db_path), "--practitioner", str(PRACTITIONER_ID)])
        await bot.start(emulator)
        try:
            practitioner = Patient(tracker, PRACTITIONER_ID, random.Random(0))
            await practitioner.send("/help")  # a bot can only write to who wrote first
            tracker.tracked.discard(PRACTITIONER_ID)
            rng = random.Random(seed)
            people = [
                Patient(
                    tracker, FIRST_PATIENT + i, random.Random(rng.random()), think=THINK_SECONDS
                )
                for i in range(patients)
            ]
            await asyncio.gather(*(ashi_intake(p) for p in people))
            deadline = messages / SHARED_PER_SECOND * 1.5 + 60
            await emulator.wait_for(
                lambda: dispatch.all_delivered(emulator, booked), timeout=deadline
            )
            await asyncio.sleep(2.0)  # let any duplicate show up
        finally:
            await bot.stop()
        sent = sorted(c.time for c in emulator.transcript if c.ok and is_sending_method(c.method))
        span = sent[-1] - sent[0] if len(sent) > 1 else float("nan")
        rate = (len(sent) - 1) / span if len(sent) > 1 else 0.0
        figures: dict[str, Any] = {
            "patients": patients,
            "messages_sent": len(sent),
            "seconds": round(span, 1),
            "sent_per_second": round(rate, 2),
            "fraction_of_30_per_second": round(rate / dispatch.TELEGRAM_LIMIT, 3),
            "patients_replies": tracker.summary({p.id for p in people}),
            "reminders": dispatch.measure(emulator, booked, PER_SECOND),
            "refused": dict(
                Counter(f"{c.method} {c.error_code}" for c in emulator.transcript if not c.ok)
            ),
            "peak_rss_mb": bot.stats["peak_rss_mb"],
        }
        done = await completed_intakes(db_path)
        if done != patients:
            raise RuntimeError(f"mixed: {done} intakes completed, expected {patients}")
    finally:
        await emulator.stop()
    return figures


def machine() -> dict[str, object]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    n, seed = args.patients, args.seed
    result: dict[str, Any] = {"machine": machine(), "patients": n}
    with tempfile.TemporaryDirectory(prefix="ashi-bench-") as directory:
        tmp = Path(directory)
        if not args.skip_intakes:
            log(f"baseline: {n} patients, closed loop")
            b_closed, b_stats = await conversations(
                ["baseline"], baseline_conversation, n, think=0.0, seed=seed
            )
            log(f"baseline: {n} patients, open loop")
            b_open, b_stats2 = await conversations(
                ["baseline"], baseline_conversation, n, think=THINK_SECONDS, seed=seed
            )
            result["baseline"] = {
                "closed_loop": b_closed,
                "open_loop": b_open,
                "peak_rss_mb": max(b_stats["peak_rss_mb"], b_stats2["peak_rss_mb"]),
            }
            log(f"ashi: {n} intakes, closed loop")
            a_closed, a_stats = await ashi_intakes(tmp, "closed", n, think=0.0, seed=seed)
            log(f"ashi: {n} intakes, open loop")
            a_open, a_stats2 = await ashi_intakes(tmp, "open", n, think=THINK_SECONDS, seed=seed)
            per_1000 = a_closed["db_bytes"] / a_closed["intakes_completed"] * 1000
            result["ashi"] = {
                "closed_loop": a_closed,
                "open_loop": a_open,
                "peak_rss_mb": max(a_stats["peak_rss_mb"], a_stats2["peak_rss_mb"]),
                "db_mb_per_1000_intakes": round(per_1000 / 1e6, 2),
            }
            result["closed_loop_throughput_ratio"] = round(
                a_closed["updates_per_second"] / b_closed["updates_per_second"], 2
            )
            shipped_n = min(n, args.shipped_patients)
            if shipped_n:
                log(f"ashi as shipped (30/s limiter): {shipped_n} intakes, closed loop")
                shipped, _ = await ashi_intakes(
                    tmp, "shipped", shipped_n, think=0.0, seed=seed, lifted=False
                )
                result["ashi_as_shipped_closed_loop"] = shipped
        m = args.messages
        if m:
            result["dispatch"] = []
            for pace in (None, args.shared_pace):
                if pace == 0:
                    continue
                expected = m / (pace or PER_SECOND)
                log(f"dispatch: {m} reminders at {pace or PER_SECOND}/s (~{expected:.0f} s)")
                result["dispatch"].append(
                    await reminders(tmp, m, pace, deadline=expected * 1.5 + 60)
                )
        if args.mixed and n and m:
            log(f"mixed load as shipped: {n} patients answering while {m} reminders are due")
            result["mixed"] = await mixed(tmp, n, m, seed=seed)
    result["targets"] = targets(result)
    return result


def targets(result: dict[str, Any]) -> dict[str, object]:
    met: dict[str, object] = {}
    if "closed_loop_throughput_ratio" in result:
        met["closed_loop_ratio_at_least_0.8"] = result["closed_loop_throughput_ratio"] >= 0.8
        met["open_loop_p99_under_50_ms"] = result["ashi"]["open_loop"]["p99_ms"] < 50
    for run in result.get("dispatch", []):
        if run["dispatcher_per_second"] != PER_SECOND:
            continue  # the pace kept while patients are answered: shown, not a target
        met[f"dispatch_at_{run['dispatcher_per_second']}_per_s_95%_no_429_no_dup_no_loss"] = (
            run["fraction_of_30_per_second"] >= 0.95
            and run["http_429"] == 0
            and run["duplicates"] == 0
            and run["lost"] == 0
        )
    if "mixed" in result:
        load = result["mixed"]
        met["mixed_95%_of_30_per_s_no_429_reply_p99_under_1_s"] = (
            load["fraction_of_30_per_second"] >= 0.95
            and load["reminders"]["http_429"] == 0
            and load["patients_replies"]["p99_ms"] < 1000
        )
    return met


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--patients", "-n", type=int, default=200, help="N (default 200)")
    parser.add_argument("--messages", "-m", type=int, default=5000, help="M (default 5000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--shipped-patients",
        type=int,
        default=10,
        help="patients for the as-shipped (rate-limited) run; 0 skips it",
    )
    parser.add_argument(
        "--shared-pace",
        type=float,
        default=SHARED_PER_SECOND,
        help="second dispatch run at this pace (messages/s; default: the pace kept while"
        " patients are answered); 0 skips it",
    )
    parser.add_argument("--skip-intakes", action="store_true", help="dispatch only")
    parser.add_argument(
        "--no-mixed",
        dest="mixed",
        action="store_false",
        help="skip the mixed load (patients answering while the reminders are due)",
    )
    args = parser.parse_args()
    result = asyncio.run(main(args))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    cli()
