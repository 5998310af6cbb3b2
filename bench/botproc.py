"""One bot under test, in its own process: `python -m bench.botproc {baseline,ashi} ...`.

The orchestrator (bench.run) keeps the emulator and the simulated patients in its process,
so the bot's CPU, memory and event loop are its own, as they would be against Telegram.
On SIGTERM or SIGINT the bot stops and prints one JSON line: its peak RSS and CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import functools
import json
import logging
import pstats
import resource
import signal
import sys
from pathlib import Path

from telegram.ext import AIORateLimiter

import bot.edge.app as bot_app
from bench.baseline import build_baseline
from bot.edge.app import build_application, serving
from bot.edge.dispatch import Dispatcher
from bot.settings import parse_settings


def lift_bot_rate_limits() -> None:
    """Build Ashi with its AIORateLimiter still in place but without limits.

    Ashi's limiter holds every call that names a chat (replies and edits alike) to Telegram's
    30 per second overall. With the emulator's limits lifted, that limiter alone would set
    the figures (about 15 button presses a second), and the bare baseline has none.
    """

    def unlimited(max_retries: int = 0) -> AIORateLimiter:
        return AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=max_retries)

    vars(bot_app)["AIORateLimiter"] = unlimited


def pace_dispatcher(per_second: float) -> None:
    """Build Ashi with its dispatcher pacing at `per_second` instead of PER_SECOND."""
    vars(bot_app)["Dispatcher"] = functools.partial(Dispatcher, per_second=per_second)


async def serve(args: argparse.Namespace) -> None:
    if args.kind == "baseline":
        app = build_baseline(args.token, args.api_url)
    else:
        env = {
            "ASHI_CLINIC_NAME": "Bench Clinic",
            "ASHI_QUIET_HOURS": "off",
            "ASHI_DB_PATH": str(args.db),
        }
        if args.practitioner:
            env["ASHI_PRACTITIONER_IDS"] = str(args.practitioner)
        settings = parse_settings(env, require_token=False)
        settings = dataclasses.replace(settings, token=args.token, api_url=args.api_url)
        if args.lift_bot_limits:
            lift_bot_rate_limits()
        if args.dispatch_rate:
            pace_dispatcher(args.dispatch_rate)
        app = build_application(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with serving(app, poll_timeout=10):
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.botproc")
    parser.add_argument("kind", choices=("baseline", "ashi"))
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--practitioner", type=int)
    parser.add_argument("--lift-bot-limits", action="store_true")
    parser.add_argument("--dispatch-rate", type=float)
    parser.add_argument("--profile", type=Path, help="write a cProfile summary here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    asyncio.run(serve(args))
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile.with_suffix(".prof"))
        with args.profile.open("w") as out:
            summary = pstats.Stats(profiler, stream=out).strip_dirs()
            summary.sort_stats("tottime").print_stats(40)
            summary.sort_stats("cumulative").print_stats(60)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    stats = {
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
    }
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
