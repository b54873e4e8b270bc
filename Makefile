# `make run` and `make test` work on a fresh clone: they create .venv (stdlib venv + pip) when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench lock clean messages fonts

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	@$(MAKE) --no-print-directory fonts
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/intake run

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
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

# Extract every translatable text (t("…"), N_("…"), plural) into the gettext template.
messages:
	mkdir -p intake/locale
	xgettext --language=Python --from-code=UTF-8 --keyword=t --keyword=N_ --keyword=_ --keyword=plural:1,2 \
	  --add-comments=translators --sort-by-file -o intake/locale/intake.pot $$(git ls-files 'intake/*.py' 'bot/*.py' 'mail/*.py')

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
