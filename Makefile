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
	$(BIN)/pip install -q -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: $(STAMP)
	$(BIN)/policy-monitor check --watchlist watchlist.yaml --data data

test: $(TEST_STAMP)
	@# newsboat (a real feed reader) for tests/test_newsboat.py; without it that test skips.
	@command -v newsboat >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq newsboat >/dev/null 2>&1; } || echo "newsboat not installed (needs root and apt-get): tests/test_newsboat.py will skip"
	$(BIN)/ruff check monitor tests
	$(BIN)/ruff format --check monitor tests
	$(BIN)/mypy monitor
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/python -m monitor.demo --data data/demo

bench: $(TEST_STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) data
