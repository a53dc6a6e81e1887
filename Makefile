# `make run`: install, migrate, start web + worker on the embedded default (SQLite, no servers).
# `make test`: install, start PostgreSQL/Redis if needed, run the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: install run test services browser migrate clean

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
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) instance .pytest_cache
