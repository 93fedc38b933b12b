# certdesk: `make run` serves the embedded default; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint lock messages clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements/lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: install
	$(BIN)/certdesk serve

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not e2e"

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/pki

# Re-pin exact versions after editing the ranges in pyproject.toml.
lock:
	$(BIN)/pip-compile --quiet --strip-extras --extra test -o requirements/lock.txt pyproject.toml

# Refresh the Japanese catalogues after changing strings (needs gettext).
messages: install
	cd src/certdesk && ../../$(BIN)/certdesk makemessages -l ja --no-obsolete && ../../$(BIN)/certdesk compilemessages

clean:
	rm -rf $(VENV) var test-output
