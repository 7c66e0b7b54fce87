# The two commands of the README. Both set up whatever is missing first (idempotent).
PYTHON ?= python3
CONFIG ?=
SETUP_CONFIG = $(if $(CONFIG),--config $(CONFIG),)

.PHONY: run run-cluster test lint setup

run:
	$(PYTHON) scripts/setup.py --for run $(SETUP_CONFIG)
	.venv/bin/ivr $(if $(CONFIG),--config $(CONFIG),) serve

# Two workers + PostgreSQL + Redis on this machine (Debian's packages, started here).
WORKERS ?= 2
run-cluster:
	$(PYTHON) scripts/setup.py --for cluster $(SETUP_CONFIG)
	.venv/bin/ivr $(if $(CONFIG),--config $(CONFIG),) cluster run --workers $(WORKERS)

test:
	$(PYTHON) scripts/setup.py --for test --config config/test.toml
	bash scripts/run_tests.sh

lint:
	.venv/bin/ruff check ivr tests
	.venv/bin/mypy
