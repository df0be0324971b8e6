# The README's commands. `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
export HOST PORT

.PHONY: run test lint typecheck check format bench-dashboard bench-chat bench-search clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

instance/secret_key:
	mkdir -p instance
	umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@

## run: install, migrate the embedded SQLite database, seed once, print demo logins, serve
run: $(VENV)/.installed instance/secret_key
	@export SECRET_KEY="$$(cat instance/secret_key)"; \
	$(FLASK) db upgrade && \
	if [ ! -f instance/.seeded ]; then $(FLASK) chatdesk seed --quiet && touch instance/.seeded; fi && \
	echo "Demo logins (password: chatdesk-demo): admin, moderator, support (dashboard); alice, bob (chat)" && \
	$(PY) wsgi.py

## test: install the dev extras and run the whole suite
test: $(VENV)/.installed-dev
	$(PY) -m pytest $(PYTEST_ARGS)

## lint: ruff's rules and its formatting, checked (`make format` fixes both)
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## typecheck: mypy on dashboard/ (settings in pyproject.toml)
typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy

## check: what CI runs before the tests
check: lint typecheck

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench-dashboard bench-chat bench-search: $(VENV)/.installed-dev
	$(PY) -m bench.$(subst bench-,,$@)

clean:
	rm -rf $(VENV) .pytest_cache test-output
