# The two commands of the README. Both set up whatever is missing first (idempotent).
# `make run` alone starts in local mode (secrets generated into var/secrets.toml);
# `make run CONFIG=config/tiny-models.toml` uses the tiny test models (no download).
PYTHON ?= python3
CONFIG ?=
SETUP_CONFIG = $(if $(CONFIG),--config $(CONFIG),)

.PHONY: run test lint setup doctor

run:
	@$(PYTHON) scripts/setup.py --for run $(SETUP_CONFIG)
	@exec .venv/bin/ivr $(SETUP_CONFIG) serve

test:
	$(PYTHON) scripts/setup.py --for test --config config/test.toml
	bash scripts/run_tests.sh

doctor:
	@.venv/bin/ivr $(SETUP_CONFIG) doctor

lint:
	.venv/bin/ruff check ivr tests
	.venv/bin/mypy
