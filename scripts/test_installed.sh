#!/usr/bin/env bash
# The product is the installed package: build the wheel, install it with the locked
# dependencies into a fresh virtualenv outside the checkout, and run the end-to-end tests
# against that `ashi` (tests/support/process.py starts it when ASHI_INSTALLED is set).
# Usage: scripts/test_installed.sh UV PYTHON (make test-installed passes both).
set -euo pipefail
uv=$(realpath "$1")
python=$(realpath -s "$2")
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/ashi-installed.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$uv" build --quiet --wheel --out-dir "$work/dist" .
python3 -m venv --without-pip "$work/venv"
"$uv" pip install --quiet --python "$work/venv/bin/python" --require-hashes -r requirements.lock
"$uv" pip install --quiet --python "$work/venv/bin/python" --no-deps "$work"/dist/ashi-*.whl
ashi="$work/venv/bin/ashi"

# From a folder far from the checkout: the code and the texts come from site-packages.
(
  cd "$work"
  "$ashi" --version
  "$work/venv/bin/python" - <<'PY'
import importlib.util, sys
for name in ("bot", "storage", "ashi_content"):
    origin = importlib.util.find_spec(name).origin
    assert "site-packages" in origin, f"{name} imported from {origin}"
print("imports from site-packages: bot, storage, ashi_content")
PY
  "$ashi" content check
)

ASHI_INSTALLED="$ashi" "$python" -m pytest -q -p no:cacheprovider \
  tests/e2e/test_service.py \
  tests/e2e/test_database_verbs.py \
  tests/e2e/test_backup.py \
  tests/e2e/test_run_process.py \
  tests/e2e/test_bad_settings.py \
  tests/e2e/test_demo.py \
  tests/unit/test_cli.py \
  tests/unit/test_content.py \
  tests/unit/test_appointments_cli.py
