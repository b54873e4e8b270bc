# `make run` and `make test` work on a fresh clone: they create .venv (stdlib venv + pip) when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench lock clean messages translations fonts browser

# gettext catalogs: one .po per language in the repo, compiled to .mo (not committed) with Babel.
LOCALE := intake/locale
TRANSLATIONS := es fr ru ar
MO_FILES := $(foreach l,$(TRANSLATIONS),$(LOCALE)/$(l)/LC_MESSAGES/intake.mo)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	@$(MAKE) --no-print-directory fonts browser
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/pybabel compile --domain intake --directory $(LOCALE) --statistics
	touch $(STAMP)

run: $(STAMP) translations
	$(BIN)/intake run

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# Benchmarks (bench/): every table, or some: `make bench ARGS="telegram smtp --json bench.json"`.
# PostgreSQL at 127.0.0.1:5432 (database `bench`, created if missing) when it answers, else SQLite;
# INTAKE_BENCH_DATABASE_URL, when set, wins.
BENCH_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432/bench
bench: $(STAMP) translations
	@if [ -n "$$INTAKE_BENCH_DATABASE_URL" ]; then $(BIN)/python -m bench $(ARGS); \
	elif $(BIN)/python -c 'import sys; from bench.procs import ensure_pg; ensure_pg(sys.argv[1])' '$(BENCH_PG)'; then \
	  INTAKE_BENCH_DATABASE_URL='$(BENCH_PG)' $(BIN)/python -m bench $(ARGS); \
	else $(BIN)/python -m bench $(ARGS); fi

# Re-resolve the pinned dependency set after changing pyproject.toml.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

# Compile each catalog whose .po changed since its .mo was made.
translations: $(MO_FILES)

$(LOCALE)/%/LC_MESSAGES/intake.mo: $(LOCALE)/%/LC_MESSAGES/intake.po | $(STAMP)
	$(BIN)/pybabel compile --domain intake --input-file $< --output-file $@ --locale $*

# Extract every translatable text (t("…"), N_("…"), plural) into the template, then merge it into
# each language's catalog: new texts appear there untranslated (tests/test_i18n_catalogs.py lists them).
messages: $(STAMP)
	$(BIN)/pybabel extract --keywords t --keywords N_ --keywords plural:1,2 --add-comments translators: \
	  --sort-by-file --project magnitsky-intake --copyright-holder "" --msgid-bugs-address "" \
	  --output-file $(LOCALE)/intake.pot intake bot mail
	$(BIN)/pybabel update --domain intake --input-file $(LOCALE)/intake.pot --output-dir $(LOCALE) --no-fuzzy-matching

# Fonts for PDF dossiers (Latin, Cyrillic, Arabic: Noto; Chinese, Japanese, Korean: Droid Sans Fallback).
FONT_FILES := /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf \
	/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
fonts:
	@if ls $(FONT_FILES) >/dev/null 2>&1; then echo "PDF fonts: installed"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "PDF fonts: installing fonts-noto-core fonts-droid-fallback"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-core fonts-droid-fallback >/dev/null; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  echo "PDF fonts: missing. Run: sudo apt-get install fonts-noto-core fonts-droid-fallback"; \
	else \
	  echo "PDF fonts: missing and apt-get is not available. Install Noto Sans, Noto Sans Arabic and Droid Sans Fallback"; \
	  echo "  (NotoSans-Regular/Bold.ttf, NotoSansArabic-Regular/Bold.ttf, DroidSansFallbackFull.ttf) and set INTAKE_DOSSIER_FONT_DIR."; \
	  echo "  Everything but PDF export works without them."; \
	fi

# Chromium for the console's browser tests (Debian's package; Playwright drives it, never downloads one).
browser:
	@if command -v chromium >/dev/null 2>&1; then echo "browser tests: $$(command -v chromium)"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "browser tests: installing Debian's chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "browser tests: chromium is missing. Run: sudo apt-get install chromium (the browser tests fail without it)"; \
	fi

