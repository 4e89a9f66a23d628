# lagwatch — two commands: `make test` and `make demo`. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the suite needs: promtool and the Prometheus server, and Chromium for
# the dashboard's browser tests (driven by the Python playwright package, never a
# downloaded browser).
DEB_PACKAGES := prometheus chromium

.DEFAULT_GOAL := help
.PHONY: help venv system-deps kafka-jars lint format test unit integration demo stop-demo bench screenshots clean

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "lagwatch needs Python 3.11+, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(STAMP) ## create or update .venv with the project and its test extras

system-deps: ## install the Debian packages the suite needs (promtool, prometheus)
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

kafka-jars: venv ## resolve the Kafka broker jars from Maven Central (once, cached)
	$(BIN)/lagwatch kafka fetch >/dev/null

lint: venv ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: venv system-deps kafka-jars lint ## set everything up and run the whole suite against a real broker
	$(BIN)/pytest -ra

unit: venv ## unit tests only (no services)
	$(BIN)/pytest -q -m "not integration"

integration: venv system-deps kafka-jars ## integration tests only (real broker)
	$(BIN)/pytest -ra -m integration

demo: venv kafka-jars ## set everything up and run the whole local stack (Ctrl-C to stop)
	scripts/demo.sh

stop-demo: venv ## stop the Kafka broker `make demo` left running
	$(BIN)/lagwatch kafka stop

screenshots: venv system-deps kafka-jars ## refresh docs/screenshots/ from the browser tests (real Chromium, broker, demo)
	LAGWATCH_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/e2e/test_dashboard_browser.py tests/e2e/test_demo_browser.py

clean: ## remove the virtualenv and caches (not the Kafka jar cache)
	rm -rf $(VENV) .pytest_cache .ruff_cache
