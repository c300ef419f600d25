# Two commands for a newcomer: `make demo` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install install-distributed install-ui demo test test-ui test-distributed test-reliability dev bench clean

install: $(STAMP)

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,accurate,accurate-train]"
	touch $(STAMP)

## Start the simulator, backfill the last 7 days through every asset and check, print the result.
demo: install
	$(PY) scripts/demo.py

## Validate the code location, then the whole suite (incl. a CLI backfill that fails on any failed check).
## The suite runs on up to 4 pytest-xdist workers (one per core), a module per worker at a time
## (its module fixtures built once); TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)

test: install
	$(VENV)/bin/dagster definitions validate -m twitter_assets.definitions
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadscope

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

## The distributed run's lake: s3 (the moto server, default) or local (a directory shared by the workers).
TWITTER_DISTRIBUTED_LAKE ?= s3

test-distributed: install-distributed
	TWITTER_DISTRIBUTED_LAKE=$(TWITTER_DISTRIBUTED_LAKE) $(VENV)/bin/pytest -m distributed twitter_assets_tests/distributed

## What a person sees: a 7-day backfill, then the Dagster UI (webserver + daemon) in headless Chromium:
## the asset graph, the gold chart and preview, per-day counts, "Execute all" checks, the HTML report.
## Screenshots in build/screenshots/. Installs Debian's chromium when missing (Playwright drives it;
## no browser download).
UI_STAMP := $(VENV)/.ui-stamp
CHROMIUM ?= /usr/bin/chromium

install-ui: install $(UI_STAMP)
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

$(UI_STAMP): setup.py $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,ui]"
	touch $(UI_STAMP)

test-ui: install-ui
	CHROMIUM=$(CHROMIUM) $(VENV)/bin/pytest -m ui twitter_assets_tests/ui

## Fault injection for real (pytest marker `reliability`, < 6 min): chaos backfill, SIGKILL mid-run,
## concurrent runs and readers, secrets; figures in build/reliability-*.json. See README, "Reliability".
test-reliability: install
	$(VENV)/bin/pytest -m reliability twitter_assets_tests/reliability

## The Dagster UI on http://127.0.0.1:3000 against the simulator, with the demo's environment.
dev: install
	$(PY) scripts/dev.py

## Benchmarks (benchmarks/): raw -> silver at each size vs pandas and naive DuckDB, gold, sentiment,
## extraction, CLI backfills, import time; writes benchmarks/RESULTS.md (full size: ~15 minutes).
## Smaller: `make bench BENCH_SIZES=10000,100000`. Not part of CI (figures depend on the machine).
BENCH_SIZES ?= 10000,100000,1000000

bench: install
	BENCH_SIZES=$(BENCH_SIZES) $(PY) -m benchmarks

clean:
	rm -rf lake .dagster_home
