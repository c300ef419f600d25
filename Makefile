# Two commands for a newcomer: `make demo` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install install-distributed demo test test-distributed test-reliability dev clean

install: $(STAMP)

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## Start the simulator, backfill the last 7 days through every asset and check, print the result.
demo: install
	$(PY) scripts/demo.py

## Validate the code location, then the whole suite (incl. a CLI backfill that fails on any failed check).
test: install
	$(VENV)/bin/dagster definitions validate -m twitter_assets.definitions
	$(VENV)/bin/pytest

## The same backfill on PostgreSQL + queued runs + 2 Celery workers over Redis (and the moto S3 server),
## against the embedded default: checks, equal tables, both workers used, worker loss, figures
## (build/distributed-figures.json). Installs the Debian servers when missing (needs root or sudo).
DIST_STAMP := $(VENV)/.distributed-stamp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

install-distributed: install $(DIST_STAMP)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		{ $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
	@command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }

$(DIST_STAMP): setup.py $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,distributed]"
	touch $(DIST_STAMP)

test-distributed: install-distributed
	$(VENV)/bin/pytest -m distributed twitter_assets_tests/distributed

## Fault injection for real (pytest marker `reliability`, < 6 min): chaos backfill, SIGKILL mid-run,
## concurrent runs and readers, secrets; figures in build/reliability-*.json. See README, "Reliability".
test-reliability: install
	$(VENV)/bin/pytest -m reliability twitter_assets_tests/reliability

## The Dagster UI on http://127.0.0.1:3000 against the simulator, with the demo's environment.
dev: install
	$(PY) scripts/dev.py

clean:
	rm -rf lake .dagster_home
