VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint unit schema clean bench

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m bot demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(PY) -m bot content check
	$(PY) -m pytest -q

# Throughput, latency and dispatch figures (README, Performance): about 8 minutes.
# BENCH_ARGS="--shared-pace 0" skips the second dispatch run (about 4 minutes).
N ?= 200
M ?= 5000
BENCH_ARGS ?=
bench: $(STAMP)
	$(PY) -m bench.run --patients $(N) --messages $(M) $(BENCH_ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# Regenerate the compact Bot API schema from the full spec (needs ../shared).
schema: $(STAMP)
	$(PY) scripts/derive_bot_api_schema.py ../shared/telegram-bot-api/api.json bot/emulator/bot_api_schema.json

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
