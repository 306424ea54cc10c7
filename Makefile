# The README's commands. `make run` and `make test` each do all set-up first.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install run worker test test-postgres lint clean bench

$(STAMP): pyproject.toml
	@PYBIN=$$(scripts/find-python) && echo "Using $$PYBIN ($$($$PYBIN --version))" && \
	  { [ -x $(PY) ] && $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || { rm -rf $(VENV); $$PYBIN -m venv $(VENV); }; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

## Run the site on the real network data (SQLite; sign-in codes and all mail print here).
run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_network members/data/wmin-network.json
	@echo ""
	@echo "SIG Hub is at http://localhost:$(PORT)/ - emails (with sign-in codes) print in this terminal."
	SITE_URL=$${SITE_URL:-http://localhost:$(PORT)} $(PY) manage.py runserver $(PORT)

## The background worker, for TASK_BACKEND=database.
worker: install
	$(PY) manage.py db_worker

# axe-core, for the accessibility checks in the browser tests.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

## Run the whole test suite (SQLite unless DATABASE_URL says otherwise), browser tests included.
test: install node_modules/.package-lock.json
	scripts/ensure-test-tools
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres:
	DATABASE_URL=$${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test} $(MAKE) test

## The benchmark (issue 7): every figure beside its floor, a table and bench/results/results.json.
## BENCH_ARGS=--quick for a short run.
bench: install
	bench/run $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
