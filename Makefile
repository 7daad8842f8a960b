# 松江区班主任网络研修平台 — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run first-run test serve install install-test system-deps system-test-deps postgres lint lint-imports typecheck bandit constraints bench clean help vendor-htmx fuzz

help:
	@echo "make run   — set up (virtualenv, install, migrate, demo data) and serve on http://$(HOST):$(PORT)"
	@echo "make test  — set up and run every test (SQLite, PostgreSQL, S3 via moto, Chromium)"
	@echo "make first-run — prove 'make run' from a fresh clone of HEAD (CI's first step)"

run: install system-deps
	$(BIN)/portal db upgrade
	$(BIN)/portal demo load
	$(BIN)/portal serve --host $(HOST) --port $(PORT)

# The first command as a new user meets it: a fresh clone of HEAD, a brand-new virtualenv, `make run` on a spare port,
# /healthz and a Chinese page, every module imported, the server stopped (.ci/first-run; CI's first step).
first-run:
	.ci/first-run

# TEST_WORKERS: pytest-xdist processes (files are kept together on one worker: module fixtures are shared).
TEST_WORKERS ?= 2
test: install-test system-deps system-test-deps postgres
	$(BIN)/ruff check backend tests migrations
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/bandit -c pyproject.toml -q -r backend
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# A longer schemathesis run over the JSON API as every kind of actor (tests/security/test_fuzz_*.py); `make test`
# runs the same tests with 3 examples per operation and role. FUZZ_EXAMPLES=1000 make fuzz for a night.
FUZZ_EXAMPLES ?= 100
fuzz: install-test postgres
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_DATABASES="sqlite postgresql" \
		$(BIN)/python -m pytest -q tests/security/test_fuzz_api.py tests/security/test_fuzz_heartbeats.py

# --- setup -------------------------------------------------------------------------------------------
$(VENV)/bin/activate:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"' \
		|| { echo "Python 3.11 or newer is required (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt $(VENV)/bin/activate
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# axe-core (npm, MPL-2.0) for the accessibility checks in the browser tests (tests/browser/test_accessibility.py),
# installed into the virtualenv, not vendored: the tests inject it into each page they check.
AXE_VERSION := 4.14.1
AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js
$(AXE): $(VENV)/bin/activate
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "installing npm (Debian) for axe-core"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm; \
	fi
	npm install --prefix $(VENV)/axe --no-save --no-package-lock --no-audit --no-fund --silent axe-core@$(AXE_VERSION)
	@grep -q "axe v$(AXE_VERSION)" $@ || { echo "axe-core $(AXE_VERSION) was not installed"; exit 1; }

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(AXE)

APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends

# A CJK font: without it every Chinese character in demo videos, screenshots and PDFs is a box.
system-deps:
	@if ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then \
		echo "installing fonts-noto-cjk (Debian)"; \
		apt-get update -qq && $(APT_INSTALL) fonts-noto-cjk fontconfig; \
	fi

# Browser tests drive Debian's chromium (browsers cannot be downloaded by Playwright here).
system-test-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "installing chromium (Debian)"; \
		apt-get update -qq && $(APT_INSTALL) chromium; \
	fi
	@# Certificate tests read PDFs as a person would: pdftoppm/pdftotext (poppler) and a real QR decoder (zbarimg).
	@if ! command -v pdftoppm >/dev/null 2>&1 || ! command -v zbarimg >/dev/null 2>&1; then \
		echo "installing poppler-utils and zbar-tools (Debian)"; \
		apt-get update -qq && $(APT_INSTALL) poppler-utils zbar-tools; \
	fi
	@# The replica test runs deploy/nginx.conf in front of two portal processes.
	@if ! command -v nginx >/dev/null 2>&1 && ! test -x /usr/sbin/nginx; then \
		echo "installing nginx-light (Debian)"; \
		apt-get update -qq && $(APT_INSTALL) nginx-light; \
	fi

# Tests run on PostgreSQL too; start the local cluster if it is installed but not running.
postgres:
	@if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then \
		if [ -d /etc/postgresql ]; then \
			pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start || true; \
			for i in $$(seq 1 20); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.5; done; \
		fi; \
	fi
	@pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432"; exit 1; }

lint: install-test
	$(BIN)/ruff check backend tests migrations

# The layering of ARCHITECTURE.md (contracts in .importlinter): the ground imports no domain, packages depend
# downward, no cycle between packages.
lint-imports: install-test
	$(BIN)/lint-imports --no-cache

# Types of backend/ ([tool.mypy] in pyproject.toml).
typecheck: install-test
	$(BIN)/mypy

# Static security analysis (issue 6): findings are fixed or explained on their line (`# nosec <rule> - why`).
bandit: install-test
	$(BIN)/bandit -c pyproject.toml -q -r backend

# Pin what is installed now (after a deliberate upgrade or a new dependency in pyproject.toml).
constraints: install-test
	{ sed -n '1,2p' constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v '^songjiang-portal'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

# Refresh the vendored htmx from the npm package (the copy in web/static/vendor is committed).
vendor-htmx:
	cd /tmp && npm pack htmx.org@2 && tar xzf htmx.org-2*.tgz && \
		cp package/dist/htmx.min.js package/LICENSE $(CURDIR)/web/static/vendor/htmx/

clean:
	rm -rf $(VENV) data test-artifacts .pytest_cache .ruff_cache

# --- translations ------------------------------------------------------------------------------------
# Extract message ids from backend/**.py and web/templates/**.html (babel.cfg) into backend/locale/messages.pot
# and merge them into each catalog. Then translate the empty msgstr in zh_CN; tests/test_i18n.py fails on any
# missing one. Besides `_`, the first argument of the AppError classes is a message id; tests/test_i18n.py reads
# I18N_KEYWORDS from this line, so keep it on one line.
I18N_KEYWORDS := _ AppError InvalidInput NotAuthenticated Forbidden NotFound Conflict
I18N_DIR := backend/locale
I18N_LOCALES := zh_CN en
I18N_WRAP := --no-wrap

.PHONY: i18n
i18n:
	@test -x $(BIN)/pybabel || { echo "$(BIN)/pybabel not found: run 'make install' first"; exit 1; }
	$(BIN)/pybabel -q extract -F babel.cfg $(addprefix -k ,$(I18N_KEYWORDS)) --no-location --sort-output \
		--omit-header $(I18N_WRAP) -o $(I18N_DIR)/messages.pot .
	@for loc in $(I18N_LOCALES); do \
		po=$(I18N_DIR)/$$loc/LC_MESSAGES/messages.po; \
		if [ -f $$po ]; then \
			$(BIN)/pybabel -q update -i $(I18N_DIR)/messages.pot -d $(I18N_DIR) -l $$loc --ignore-obsolete \
				--ignore-pot-creation-date $(I18N_WRAP) || exit 1; \
		else \
			$(BIN)/pybabel -q init -i $(I18N_DIR)/messages.pot -d $(I18N_DIR) -l $$loc $(I18N_WRAP) || exit 1; \
		fi; \
	done
	$(BIN)/python backend/locale/merge_pending.py
	@$(BIN)/python -c 'from babel.messages.pofile import read_po; \
		c = read_po(open("$(I18N_DIR)/zh_CN/LC_MESSAGES/messages.po", "rb")); \
		todo = [m.id for m in c if m.id and (not m.string or m.fuzzy)]; \
		print(f"zh_CN: {len(todo)} of {len([m for m in c if m.id])} messages need a translation"); \
		[print("  ", repr(i)) for i in todo]'

# --- bench -------------------------------------------------------------------------------------------
# The heartbeat hot path under BENCH_VIEWERS (default 30000) viewers for BENCH_SECONDS (default 60), against the
# same stack's one-insert baseline, on PostgreSQL (database portal_bench). The last line printed is JSON.
bench: install-test postgres
	$(BIN)/python bench/run.py
