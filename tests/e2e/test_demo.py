"""`make demo` as a person uses it: a terminal chat with the real bot, no token."""

import os
import subprocess
import sys
from pathlib import Path


def test_demo_chat_in_the_terminal(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ASHI_", "TELEGRAM_"))}
    script = "/start\n1\n4\n7\n/cancel\n/quit\n"  # agree, tick Arms, Done, pause, leave
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--db", str(tmp_path / "demo.sqlite3")],
        input=script,
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Do you agree to share your answers" in out
    assert "[1] I agree  [2] No thanks" in out
    assert "Question 1 of 21" in out
    assert "✅ Arms" in out
    assert "What brought the pain on?" in out
    assert "Your answers so far are kept" in out
    assert "Traceback" not in result.stderr
    assert (tmp_path / "demo.sqlite3").exists()
