# The two commands a new machine needs: `make run` and `make test` (Python 3.11+, make, a C compiler).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements.lock | cut -d' ' -f1)

.PHONY: run test lint venv migration bench clean browsers

$(STAMP): requirements.lock
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

venv: $(STAMP)

## Start everything: embedded Redis (unless REDIS_URL), SQLite under var/ (unless *_DATABASE_URL),
## migrations, the 2019 demo plan, 3 web services, 4 workers (notification's events have their own), 3 beats, mail/SMS sinks. Ctrl-C stops.
run: venv
	$(BIN)/python -m tools.devrun

## The whole suite against real Redis (TEST_REDIS_URL or an embedded one) and
## PostgreSQL when TEST_DATABASE_URL is set (SQLite otherwise), plus the import contracts.
test: venv
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/lint-imports

## make migration SERVICE=enrollment MSG="add column"
migration: venv
	$(BIN)/python -m shared.migrations $(SERVICE) "$(MSG)"

clean:
	rm -rf var/ .pytest_cache
