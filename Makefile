# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
# The first Python >= 3.12 found; override with `make PYTHON=/path/to/python3.13 run`.
PYTHON ?= $(shell for p in python3 python3.13 python3.12; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { command -v $$p; break; }; done)

.PHONY: run test test-fast test-faults test-browser lint format migrate demo clean check-python loadtest lock

check-python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "Python 3.12 or newer is needed (Django 6 requires it); none was found on PATH." >&2; \
		echo "Install one (e.g. 'pyenv install 3.12', or your OS package), or run 'make PYTHON=/path/to/python3.12 ...'." >&2; \
		exit 1; fi

# Every install comes from a lock: each package, direct or not, pinned with its hashes
# (requirements.lock for running, requirements-dev.lock for developing and testing). The
# *.txt files hold only the top-level pins; `make lock` compiles the locks from them.
$(BIN)/.runtime: requirements.lock | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	@touch $@

$(BIN)/.dev: requirements-dev.lock $(BIN)/.runtime
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	@touch $@

# Recompile the locks after changing a pin in requirements*.txt; what is not pinned there keeps
# its locked version unless UPGRADE=1 (then the newest releases are taken). pip-tools runs in
# a venv of its own.
PIP_TOOLS := .venv-lock/bin/pip-compile
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(PIP_TOOLS) --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

$(PIP_TOOLS): | check-python
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet pip-tools==7.7.0

lock: $(PIP_TOOLS)
	$(PIP_COMPILE) $(if $(UPGRADE),--upgrade) --output-file requirements-dev.lock requirements-dev.txt
	$(PIP_COMPILE) --constraint requirements-dev.lock --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) --constraint requirements-dev.lock --output-file requirements-loadtest.lock \
		requirements-loadtest.txt

migrate: $(BIN)/.runtime
	DEBUG=1 $(BIN)/python manage.py migrate --noinput

demo: migrate
	DEBUG=1 $(BIN)/python manage.py load_demo_data

# The embedded default: SQLite, the in-memory channel layer, one process. Served by Daphne
# (runserver); `make run SERVER=uvicorn` serves it with uvicorn and the production options of docs/deployment.md.
SERVER ?= daphne
UVICORN_OPTIONS := --backlog 2048 --proxy-headers --loop uvloop --http httptools \
	--ws websockets-sansio --ws-ping-interval 60 --ws-max-size 65536 \
	--ws-per-message-deflate false --lifespan on --no-access-log

run: demo
	@echo "Serving on http://$(HOST):$(PORT)/ — sign in as ada, grace or linus (password relay-demo-pass)."
ifeq ($(SERVER),daphne)
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)
else ifeq ($(SERVER),uvicorn)
	DEBUG=1 $(BIN)/python -m uvicorn realtime.asgi:application --host $(HOST) --port $(PORT) \
		$(UVICORN_OPTIONS)
else
	$(error SERVER is daphne (the default) or uvicorn, not '$(SERVER)')
endif

lint: $(BIN)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

format: $(BIN)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Unit, consumer and integration tests (pytest-asyncio) in one process ...
test-fast: $(BIN)/.dev
	$(BIN)/pytest -m "not browser"

# ... and browser tests (sync Playwright) in another: the two cannot share a process.
test-browser: $(BIN)/.dev
	$(BIN)/pytest -m browser

test: lint test-fast test-browser

# The fault suite alone (test-fast runs it too): Redis, PostgreSQL and Daphne broken on purpose.
test-faults: $(BIN)/.dev
	$(BIN)/pytest -m faults

# A bounded load test of a running server (by default the one `make run` serves), then its
# report in report/$(SCENARIO)/. The exit code follows the thresholds, e.g.
# `make loadtest THRESHOLDS="deliver_p99<=500 drops<=0"`. See loadtest/README.md.
LOADTEST_HOST ?= http://127.0.0.1:8000
USERS ?= 200
SCENARIO ?= fanout
RUN_TIME ?= 30s
THRESHOLDS ?=

# The kit needs the app (for loadtest_users) and its own requirements, not the dev tools.
$(BIN)/.loadtest: requirements-loadtest.lock $(BIN)/.runtime
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-loadtest.lock
	@touch $@

loadtest: $(BIN)/.loadtest
	test -f users.csv || DEBUG=1 $(BIN)/python manage.py loadtest_users --count $(USERS) --staff 1 --output users.csv
	$(BIN)/locust -f loadtest/locust/locustfile.py --host $(LOADTEST_HOST) --headless \
		-u $(USERS) -r 50 -t $(RUN_TIME) --scenario $(SCENARIO) --users-csv users.csv \
		--staff-session "$$(head -1 users.csv | cut -d, -f2)" \
		$(foreach t,$(THRESHOLDS),--threshold '$(t)') \
		--csv results/$(SCENARIO) --csv-full-history; status=$$?; \
	$(BIN)/python -m loadtest.locust.report results --prefix $(SCENARIO) -o report/$(SCENARIO); exit $$status

clean:
	rm -rf $(VENV) .venv-lock .pytest_cache .mypy_cache .ruff_cache staticfiles
