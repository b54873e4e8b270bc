# `make run` and `make test` work on a fresh clone: they create .venv (stdlib venv + pip) when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench lock clean messages translations

# gettext catalogs: one .po per language in the repo, compiled to .mo (not committed) with Babel.
LOCALE := intake/locale
TRANSLATIONS := es fr ru ar
MO_FILES := $(foreach l,$(TRANSLATIONS),$(LOCALE)/$(l)/LC_MESSAGES/intake.mo)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.lock pyproject.toml
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

bench: $(STAMP)
	$(BIN)/python -m bench

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
