# Kakehashi: `make run` serves the demo (web app + a worker + the game-build sandbox), `make test` runs the whole suite.
# Both set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
SANDBOX_PORT ?= 5001
export FLASK_APP := lms

# Debian packages: what the app needs to run, and what the tests need on top.
RUN_PACKAGES := ca-certificates ffmpeg libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk fonts-dejavu-core fonts-dejavu-extra
TEST_PACKAGES := postgresql poppler-utils chromium nginx-light

.PHONY: run test setup setup-test migrate demo clean translations screenshots

run: setup migrate demo
	@echo ""
	@echo "Kakehashi is starting at http://$(HOST):$(PORT)/"
	@echo "Demo logins (role, login, password):"
	@$(BIN)/flask lms logins
	@echo ""
	BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) SANDBOX_PORT=$(SANDBOX_PORT) ./scripts/serve.sh

test: setup-test
	$(BIN)/pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed
	@./scripts/system-packages.sh $(RUN_PACKAGES)
	@$(BIN)/pybabel compile -d lms/translations --statistics
	@$(BIN)/python -m lms.records.cjk_font  # the PDFs' Japanese font, cut to JIS X 0208 (skipped when up to date)

setup-test: setup tests/browser/node_modules/.installed
	@./scripts/system-packages.sh $(TEST_PACKAGES)

# axe-core for the browser tests' accessibility checks, pinned by tests/browser/package-lock.json.
tests/browser/node_modules/.installed: tests/browser/package-lock.json
	@command -v npm >/dev/null || ./scripts/system-packages.sh nodejs npm  # a node install may bring its own npm
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	@touch $@

# PNGs of the main pages in en/ja/uz/ru into docs/screenshots/ (Debian's Chromium, 1280x800).
screenshots: setup-test
	$(BIN)/pytest tests/browser/test_screenshots.py --screenshots -p no:cacheprovider -q

# Re-installs only when pyproject.toml changes; a stamp keeps repeated runs fast.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || ./scripts/system-packages.sh python3-venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

migrate: setup
	$(BIN)/flask db upgrade

demo: migrate
	$(BIN)/flask lms demo

# Re-extract UI strings after changing them; every catalog gains the new (empty) entries to translate.
translations: setup
	$(BIN)/pybabel extract --ignore-dirs ".*" -F babel.cfg -k _l -k N_ -k later -k lazy_gettext -k ngettext:1,2 -k _n:1,2 -k pgettext:1c,2 -k lazy_pgettext:1c,2 --no-wrap --sort-by-file -o lms/translations/messages.pot .
	$(BIN)/pybabel update -i lms/translations/messages.pot -d lms/translations --no-wrap --ignore-obsolete

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
