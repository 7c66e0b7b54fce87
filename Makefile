# The two commands of the README. Both set up whatever is missing first (idempotent).
PYTHON ?= python3
CONFIG ?=
SETUP_CONFIG = $(if $(CONFIG),--config $(CONFIG),)

.PHONY: run test lint setup

run:
	$(PYTHON) scripts/setup.py --for run $(SETUP_CONFIG)
	.venv/bin/ivr $(if $(CONFIG),--config $(CONFIG),) serve

test:
	$(PYTHON) scripts/setup.py --for test --config config/test.toml
	bash scripts/run_tests.sh

lint:
	.venv/bin/ruff check ivr tests
	.venv/bin/mypy
