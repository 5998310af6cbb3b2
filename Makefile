VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint unit schema clean

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

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# Regenerate the compact Bot API schema from the full spec (needs ../shared).
schema: $(STAMP)
	$(PY) scripts/derive_bot_api_schema.py ../shared/telegram-bot-api/api.json bot/emulator/bot_api_schema.json

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
