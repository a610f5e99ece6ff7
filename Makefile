# Two commands for a new user: `make run` and `make test` (see README.md).
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint bench

# Two stamps: `make run` needs only the runtime (about 70 MB); `make install`, `make test`
# and `make lint` add the dev extras (test and lint tools) on top. Quiet pip; the
# build backend's warnings (PYTHONWARNINGS) are not the first thing a user should read.
PIP := PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONWARNINGS=ignore $(BIN)/pip install --quiet
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed

$(RUNTIME): pyproject.toml constraints.txt
	@echo "make: installing the runtime into $(VENV)"
	@python3 -m venv $(VENV)
	@$(PIP) --upgrade pip
	@$(PIP) -c constraints.txt -e .
	@touch $@

$(DEV): $(RUNTIME)
	@echo "make: adding the test and lint tools to $(VENV)"
	@$(PIP) -c constraints.txt -e '.[dev]'
	@touch $@

install: $(DEV)

# The relay on :8080 plus both sample consumers, against $RELAY_AMQP_URL
# (default amqp://guest:guest@127.0.0.1:5672/; if nothing answers there and rabbitmq-server
# is installed, a private node under .run/ for this run). Ctrl-C stops all three; so does
# any one of them exiting, and then `make run` fails.
run: $(RUNTIME)
	@PATH="$(abspath $(BIN)):$$PATH" scripts/run-stack

# Broker and database tests use $RELAY_TEST_AMQP_URL / $RELAY_TEST_POSTGRES_URL when
# set, else testcontainers (Docker). With neither, `make test` points them at the
# standard local ports (and says so); the fixtures fail, never skip, if nothing answers.
# Redis (the shared replay store's tests) is $RELAY_TEST_REDIS_URL, else the local port.
LOCAL_AMQP := amqp://guest:guest@127.0.0.1:5672/
LOCAL_POSTGRES := postgresql://postgres@127.0.0.1:5432/test
LOCAL_REDIS := redis://127.0.0.1:6379/

test: install
	@export RELAY_TEST_REDIS_URL="$${RELAY_TEST_REDIS_URL:-$(LOCAL_REDIS)}"; \
	if [ -z "$$RELAY_TEST_AMQP_URL$$RELAY_TEST_POSTGRES_URL" ] && ! docker info >/dev/null 2>&1; then \
	  echo "make test: no Docker engine and no RELAY_TEST_* URLs: using $(LOCAL_AMQP) and $(LOCAL_POSTGRES)"; \
	  RELAY_TEST_AMQP_URL=$(LOCAL_AMQP) RELAY_TEST_POSTGRES_URL=$(LOCAL_POSTGRES) $(BIN)/pytest $(PYTEST_ARGS); \
	else \
	  $(BIN)/pytest $(PYTEST_ARGS); \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m bench
