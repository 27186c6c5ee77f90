# Every target creates .venv and installs the project on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint console ingest clean

$(STAMP): pyproject.toml
	@echo "Installing storybot into $(VENV) (first run only; the log is $(VENV)/install.log)..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --upgrade pip > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(PY) -m pip install -e '.[dev]' >> $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $(STAMP)

run: $(STAMP)
	@$(PY) -m bot

console: $(STAMP)
	@$(PY) -m bot console

ingest: $(STAMP)
	@$(PY) -m bot ingest

test: $(STAMP)
	@$(PY) -m pytest

lint: $(STAMP)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/pyright
	@$(VENV)/bin/lint-imports --no-cache

bench: $(STAMP)
	@$(PY) -m benchmarks

clean:
	rm -rf $(VENV) data bench-data .pytest_cache .ruff_cache
