# Every target creates .venv and installs the project on first use: `run`, `console` and
# `ingest` only what runs (requirements.lock); `test`, `lint` and `bench` add the
# development tools (requirements-dev.lock). The lock files pin the versions CI tested.
# the first of these that is Python 3.11 or later (Ubuntu 22.04's python3 is 3.10; its
# python3.11 package is found by name); `make PYTHON=/path/to/python run` chooses one
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
  $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
PROD := $(VENV)/.installed-prod
DEV := $(VENV)/.installed-dev

.PHONY: run test bench eval lint console ingest lock clean settings-docs

$(PROD): pyproject.toml requirements.lock
	@echo "Installing storybot into $(VENV) (first run only; the log is $(VENV)/install.log)..."
	@test -x $(PY) || test -n "$(PYTHON)" || { echo "storybot needs Python 3.11 or later, and none was found (python3 is $$(python3 --version 2>&1 | cut -d' ' -f2)). On Ubuntu 22.04: sudo apt-get install -y python3.11 python3.11-venv" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --upgrade pip > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(PY) -m pip install -c requirements.lock -e . >> $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $(PROD)

# editable with the extras, so the screenshot extra never replaces the editable install
$(DEV): $(PROD) requirements-dev.lock
	@echo "Installing the development tools into $(VENV)..."
	@$(PY) -m pip install -c requirements-dev.lock -e '.[dev,screenshot]' >> $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $(DEV)

# exit status 2 is a configuration problem (no token, a bad setting) that `python -m bot`
# has just explained in its last line; make would add its own "Error 2" line after it, so it
# ends here quietly. The service runs `.venv/bin/python -m bot`, which keeps status 2.
run: $(PROD)
	@$(PY) -m bot || [ $$? -eq 2 ]

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
	@$(PY) -m tools.sizes --check

# scene search on the blind descriptions: each file's figures beside words alone, with the
# issue's goals (the four blind sets are all development data now) and their sum
eval: $(DEV)
	@$(PY) -m pytest -s -q -p no:randomly tests/search/test_scene_eval.py -k blind

bench: $(DEV)
	@$(PY) -m benchmarks

# after changing SETTINGS_HELP in bot/settings.py: rewrite .env.example and the README's table
settings-docs: $(PROD)
	@$(PY) -m bot.settings_doc

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
