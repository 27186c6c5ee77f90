# Every target creates .venv and installs the project on first use: `run`, `console` and
# `ingest` only what runs (requirements.lock); `test`, `lint` and `bench` add the
# development tools (requirements-dev.lock). The lock files pin the versions CI tested.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROD := $(VENV)/.installed-prod
DEV := $(VENV)/.installed-dev

.PHONY: run test bench lint console ingest lock clean

$(PROD): pyproject.toml requirements.lock
	@echo "Installing storybot into $(VENV) (first run only; the log is $(VENV)/install.log)..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --upgrade pip > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(PY) -m pip install -c requirements.lock -e . >> $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $(PROD)

# editable with the extras, so the screenshot extra never replaces the editable install
$(DEV): $(PROD) requirements-dev.lock
	@echo "Installing the development tools into $(VENV)..."
	@$(PY) -m pip install -c requirements-dev.lock -e '.[dev,screenshot]' >> $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $(DEV)

run: $(PROD)
	@$(PY) -m bot

console: $(PROD)
	@$(PY) -m bot console

ingest: $(PROD)
	@$(PY) -m bot ingest

test: $(DEV)
	@$(PY) -m pytest

lint: $(DEV)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/pyright
	@$(VENV)/bin/lint-imports --no-cache

bench: $(DEV)
	@$(PY) -m benchmarks

# after changing dependencies in pyproject.toml: re-resolve both lock files in scratch venvs
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv && .lock-venv/bin/pip install -q . \
	  && (echo "# What \`make run\` installs (constraints for pip -c): the versions CI tested. Regenerate: make lock"; \
	      .lock-venv/bin/pip freeze --exclude storybot) > requirements.lock \
	  && .lock-venv/bin/pip install -q '.[dev,screenshot]' \
	  && (echo "# What \`make test\`/\`lint\`/\`bench\` install on top (dev and screenshot extras). Regenerate: make lock"; \
	      .lock-venv/bin/pip freeze --exclude storybot) > requirements-dev.lock; \
	  status=$$?; rm -rf .lock-venv; exit $$status

clean:
	rm -rf $(VENV) data bench-data .pytest_cache .ruff_cache
