VENV := .venv
PY := $(VENV)/bin/python
# uv installs in a second or two what pip takes half a minute for; it lives beside the
# virtualenv (not in it) and is fetched with the system's pip the first time.
UV_VERSION := 0.13.9
UV := $(VENV)/uv/bin/uv
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
UV_ENV := UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1

.PHONY: demo test test-slow test-webhook test-installed lint schema clean bench lock

$(UV):
	python3 -m venv --without-pip $(VENV)
	python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target $(VENV)/uv 'uv==$(UV_VERSION)'

# What the bot needs to run, at the locked versions; the demo installs nothing more.
$(RUN_STAMP): requirements.lock pyproject.toml | $(UV)
	$(UV_ENV) $(UV) pip install --quiet --python $(PY) --require-hashes -r requirements.lock
	$(UV_ENV) $(UV) pip install --quiet --python $(PY) --no-deps -e .
	touch $@

# Linters, type checker, test tools and the FHIR validator on top.
$(DEV_STAMP): $(RUN_STAMP)
	$(UV_ENV) $(UV) pip install --quiet --python $(PY) -e '.[dev]'
	touch $@

demo: $(RUN_STAMP)
	$(PY) -m bot demo

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(PY) -m bot content check
	$(PY) -m pytest -q

test-slow: $(DEV_STAMP)
	$(PY) -m pytest -q -m slow

# The end-to-end tests again, every bot taking its updates on a webhook instead of long
# polling (CI runs this).
test-webhook: $(DEV_STAMP)
	ASHI_TEST_WEBHOOK=1 $(PY) -m pytest -q tests/e2e

# The product as a clinic installs it: the wheel and the locked dependencies in a fresh
# virtualenv outside the checkout, driven by the end-to-end tests (CI runs this).
test-installed: $(DEV_STAMP)
	$(UV_ENV) scripts/test_installed.sh $(UV) $(PY)

# Throughput, latency, dispatch and mixed-load figures (README, Performance): about 18 minutes.
# BENCH_ARGS="--shared-pace 0" skips the second dispatch run (about 4 minutes).
N ?= 200
M ?= 5000
BENCH_ARGS ?=
bench: $(DEV_STAMP)
	$(PY) -m bench.run --patients $(N) --messages $(M) $(BENCH_ARGS)

# Exact versions (with hashes) of what the bot needs, for deployments and CI: after changing
# the dependencies in pyproject.toml. `--upgrade` moves every pin to the newest release.
lock: | $(UV)
	$(UV) pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 \
		--quiet $(LOCK_ARGS) -o requirements.lock

# Regenerate the compact Bot API schema from the full spec (needs ../shared).
schema: $(DEV_STAMP)
	$(PY) scripts/derive_bot_api_schema.py ../shared/telegram-bot-api/api.json bot/emulator/bot_api_schema.json

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
