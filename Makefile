# `make run`: install, migrate, start web + worker on the embedded default (SQLite, no servers).
# `make test`: install, start PostgreSQL/Redis if needed, check the layering (import-linter), run the whole suite.
# `make bench`: the three benchmarks of the README (a few minutes; results as JSON in bench/out/).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: install run test bench services browser migrate clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

services:
	scripts/services.sh

browser:
	scripts/chromium.sh

migrate: install
	$(BIN)/flask --app aftercall db upgrade

run: migrate
	PORT=$(PORT) scripts/run.sh

test: install services browser
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

bench: install services
	scripts/wrk.sh
	mkdir -p bench/out
	$(BIN)/python -m bench.webhook_bench --connections 32 --seconds 10 --workers 2 --threads 8 --legs 30000 \
		| tee bench/out/webhook.json
	$(BIN)/python -m bench.data
	$(BIN)/python -m bench.scorecard_bench | tee bench/out/scorecards.json

clean:
	rm -rf $(VENV) instance .pytest_cache
