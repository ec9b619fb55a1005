# monstack: the two commands a newcomer needs are `make run` (set up, generate and validate the example)
# and `make test` (set up, then the test suite). Both install what they need: a venv in .venv and the
# external tools in .tools (scripts/install-tools.sh; --victoriametrics adds vmalert, vmalert-tool, victoria-metrics).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SPECS ?= specs/real-estate-scraper.yaml specs/checkout.yaml   # each generates into generated/<name>/

.PHONY: run test setup tools contract-deps venv clean

run: setup
	set -e; for spec in $(SPECS); do \
	  $(BIN)/monstack generate $$spec -o generated/$$(basename $$spec .yaml); \
	  $(BIN)/monstack validate $$spec --require-tools; done

test: setup
	set -e; for spec in $(SPECS); do \
	  $(BIN)/monstack generate $$spec -o generated/$$(basename $$spec .yaml) --check; \
	  $(BIN)/monstack test $$spec; done
	$(BIN)/pytest -q

setup: venv tools

venv: $(BIN)/monstack

$(BIN)/monstack: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

tools:
	bash scripts/install-tools.sh --victoriametrics

# The metrics-contract suite (tests/test_contract.py, tests/test_catalogue.py, marked slow) runs the real exporters,
# Redis, PostgreSQL, MariaDB, nginx and RabbitMQ; without them its tests skip. CI (.ci/run) installs them first;
# `pytest -m 'not slow'` is the quick local run. The tests start their own instances on free loopback ports: a
# policy-rc.d that refuses (exit 101) keeps apt from starting the system's services (only when the machine has
# none of its own; it is removed again).
CONTRACT_PACKAGES := redis-server postgresql mariadb-server nginx rabbitmq-server
contract-deps:
	bash scripts/install-tools.sh --exporters
	@if [ -e /usr/sbin/policy-rc.d ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(CONTRACT_PACKAGES) >/dev/null; \
	else \
	  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(CONTRACT_PACKAGES) >/dev/null; st=$$?; \
	  rm -f /usr/sbin/policy-rc.d; exit $$st; \
	fi

clean:
	rm -rf $(VENV) .tools .pytest_cache
