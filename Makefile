PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install run test demo lint bench clean

# `make` alone installs (or, after a `git pull` that changed pyproject.toml, updates) .venv
.DEFAULT_GOAL := install

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

# Always asks pip (a few seconds when all is there): a venv missing a package whose stamp
# is still newer than pyproject.toml (a package removed, a failed install) is repaired too.
install: $(BIN)/python
	$(BIN)/pip install -q -e '.[browser]'
	touch $(STAMP)

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

# urlwatch is measured beside the monitor on the same pages (issue 15, bench/sweep.py), in
# a venv of its own: it is not a dependency of ours.
URLWATCH := $(CURDIR)/.venv-urlwatch

$(URLWATCH)/bin/urlwatch:
	$(PY) -m venv $(URLWATCH)
	$(URLWATCH)/bin/pip install -q 'urlwatch==2.29' beautifulsoup4

bench: $(TEST_STAMP) $(URLWATCH)/bin/urlwatch
	URLWATCH_PYTHON=$(URLWATCH)/bin/python $(BIN)/python bench/run.py $(BENCH)

clean:
	rm -rf $(VENV) $(URLWATCH) data
