# Two commands for a newcomer: `make demo` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test dev clean

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

## The Dagster UI on http://127.0.0.1:3000 against the simulator, with the demo's environment.
dev: install
	$(PY) scripts/dev.py

clean:
	rm -rf lake .dagster_home
