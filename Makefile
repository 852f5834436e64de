# Lotse CRM. On a fresh machine: `make run` serves the app with demo data, `make test` runs the suite.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
CATALOGS := $(wildcard crm/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: run serve test bench install install-test translations messages upgrade vendor clean

run: install translations upgrade
	$(FLASK) crm seed-demo --if-empty
	@echo
	@$(FLASK) crm one-time-login
	@echo "Lotse runs on http://127.0.0.1:5000 (Ctrl+C stops it)."
	@echo
	$(FLASK) run --host 127.0.0.1 --port 5000

# Production-like: gunicorn with gunicorn.conf.py (set DATABASE_URL, SECRET_KEY and friends first).
serve: install translations upgrade
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

test: install-test translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Not part of `make test`: the key pages under load (wrk, 16 connections) on generated data, on
# SQLite and PostgreSQL; installs wrk from Debian's packages when it is missing.
bench: install translations
	@command -v wrk >/dev/null || apt-get install -y wrk >/dev/null || sudo apt-get install -y wrk
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

upgrade: install translations
	$(FLASK) db upgrade

install: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $(VENV)/.installed-run $@

# The .po files are the source; the compiled .mo files are built here and not committed.
translations: $(COMPILED)

crm/translations/%/LC_MESSAGES/messages.mo: crm/translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed-run
	$(BIN)/pybabel compile --statistics -d crm/translations -l $*
	@test -f $@

# After changing texts: extract them and update the catalogs, then translate the new entries.
messages: install
	$(BIN)/pybabel extract --mapping babel.cfg --keywords _l --ignore-dirs ".* node_modules __pycache__ tests" --no-location --sort-output \
	    --project Lotse --output crm/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i crm/translations/messages.pot -d crm/translations

vendor:
	scripts/vendor-assets.sh

clean:
	rm -rf $(VENV) node_modules $(COMPILED) .pytest_cache
