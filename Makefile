PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test demo lint bench clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) (Python 3.11) on PATH, or run: make PY=python3 ..."; exit 2; }
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[browser]'
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[test,browser]'
	touch $@

run: $(STAMP)
	@sh scripts/system-deps chromium:chromium
	$(BIN)/policy-monitor check --watchlist watchlist.yaml --data data

test: $(TEST_STAMP)
	@# Chromium renders script-built pages; newsboat is the real feed reader the tests use.
	@sh scripts/system-deps chromium:chromium newsboat:newsboat
	$(BIN)/ruff check monitor tests
	$(BIN)/ruff format --check monitor tests
	$(BIN)/mypy monitor
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/python -m monitor.demo --data data/demo

bench: $(TEST_STAMP)
	$(BIN)/python bench/run.py $(BENCH)

clean:
	rm -rf $(VENV) data
