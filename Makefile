# Two commands for a new user: `make run` and `make test` (see README.md).
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint bench

$(BIN)/relay: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/relay

# The relay on :8080 plus both sample consumers, against $RELAY_AMQP_URL
# (default amqp://guest:guest@127.0.0.1:5672/). Ctrl-C stops all three.
run: install
	PATH="$(CURDIR)/$(BIN):$$PATH" scripts/run-stack

# Broker and database tests use $RELAY_TEST_AMQP_URL / $RELAY_TEST_POSTGRES_URL when
# set, else testcontainers (Docker); with neither they fail, saying so.
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench
