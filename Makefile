# `make run`: install, migrate, start web + worker on the embedded default (SQLite, no servers);
#   the port answers at once with the preparation's progress (PORT=8000 make run: another port).
# `make test`: install, start PostgreSQL/Redis if needed, check the layering (import-linter), run the whole suite.
# `make bench`: the benchmarks of the README, the webhook mix and the pay-rule sweep (a few minutes; results in bench/out/).
# `make bench-10m`: partitioned PostgreSQL at 10 million calls (about 35 min on two cores, a year of rollup built once; ~10 GB; not in `make bench`).
# `make translations`: extract the interface strings, merge them into the catalogs, compile (docs/translating.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: install run test bench bench-10m services browser migrate clean translations

CATALOGS := dashboard/translations
PO := $(wildcard $(CATALOGS)/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)
EXTRACT := -F babel.cfg -k N_ -k NP_:1c,2 --no-location --sort-output --project Aftercall

install: $(VENV)/.installed $(MO)

# The compiled catalogs are committed (a platform deploy runs no make; tests/deploy/test_catalogs.py
# checks they match the .po); rebuilt here when a .po is newer.
$(CATALOGS)/%/LC_MESSAGES/messages.mo: $(CATALOGS)/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d $(CATALOGS) -l $*

translations: $(VENV)/.installed
	$(BIN)/pybabel extract $(EXTRACT) -o $(CATALOGS)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --no-fuzzy-matching --ignore-obsolete -w 100
	$(BIN)/pybabel compile --statistics -d $(CATALOGS)

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

run:   # scripts/run.sh installs and migrates itself, with the port already answering
	PORT=$(PORT) scripts/run.sh

test: install services browser
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

bench: install services
	scripts/wrk.sh
	mkdir -p bench/out
	$(BIN)/python -m bench.webhook_bench --connections 32 --seconds 10 --workers 2 --threads 8 --legs 30000 \
		| tee bench/out/webhook.json
	$(BIN)/python -m bench.mix_bench --rates 14,21,28,42 --step-seconds 20 --chart bench/out/mix.svg \
		| tee bench/out/mix.txt
	$(BIN)/python -m bench.data
	$(BIN)/python -m bench.scorecard_bench | tee bench/out/scorecards.json
	$(BIN)/python -m bench.outage_proof --calls 300 --threads 8 | tee bench/out/outage.json
	$(BIN)/python -m bench.pay_sweep --seeds 10 --out bench/out/pay_sweep.json --markdown

bench-10m: install services
	mkdir -p bench/out
	$(BIN)/python -m bench.partition_migration --calls 1000000 | tee bench/out/partition_migration.json
	$(BIN)/python -m bench.data --name aftercall_bench10m --calls 10000000 --months 12
	$(BIN)/python -m bench.scorecard_bench --url postgresql+psycopg://postgres@127.0.0.1:5432/aftercall_bench10m \
		--month 2026-11 --explain | tee bench/out/scorecards10m.json

clean:
	rm -rf $(VENV) instance .pytest_cache
