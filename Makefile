# The two commands: `make run` serves the seeded directory, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test coverage bench relevance install clean vendor settings-table messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/directory db upgrade
	$(BIN)/directory seed --if-empty
	$(BIN)/directory serve --host $(HOST) --port $(PORT)

# pytest exits 5 when it collects no test; that is not a failure of the suite.
test: install
	$(BIN)/pytest $(PYTEST_ARGS); status=$$?; if [ $$status -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$status

# The suite under coverage (settings in pyproject.toml); fails when under 90% of src/ is run.
coverage: install
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS); status=$$?; \
	$(BIN)/coverage combine -q; $(BIN)/coverage report; report=$$?; [ $$status -eq 0 ] && exit $$report; exit $$status

# BENCH_BACKEND=postgres|sqlite BENCH_LISTINGS=N BENCH_SECONDS=S BENCH_WORKERS=W [BENCH_REUSE=1] make bench
bench: install
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 || echo "wrk could not be installed: the benchmark drives the load from Python instead"
	$(BIN)/directory bench

# recall@10 and nDCG@10 of the search judgement set (seed/judgements/); RELEVANCE_ARGS=--misses lists the misses.
relevance: install
	$(BIN)/python -m directory.bench.relevance $(RELEVANCE_ARGS)

# Extract the words of the pages, their scripts and the Python code into src/directory/locale/messages.pot and
# merge them into each language's catalog (new ones untranslated, changed ones fuzzy: both fail the tests until translated).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k t -k tn:1,2 --add-location=file --sort-output --no-wrap --omit-header -o src/directory/locale/messages.pot .
	$(BIN)/pybabel update -i src/directory/locale/messages.pot -d src/directory/locale --no-wrap --ignore-obsolete

# Refresh the browser libraries under src/directory/web/static/vendor from the npm registry (committed; not needed to run).
vendor:
	src/directory/web/vendor.sh

# Rewrite the README's Configuration table from the settings' docstrings.
settings-table: install
	$(BIN)/python -c 'import re, pathlib; from directory.settings import markdown_table; p = pathlib.Path("README.md"); t = p.read_text(); s = t.index("| variable | default | meaning |"); e = t.index("\n\n", s) + 1; p.write_text(t[:s] + markdown_table() + t[e:])'

clean:
	rm -rf $(VENV) var .pytest_cache
