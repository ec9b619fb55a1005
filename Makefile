# monstack: the two commands a newcomer needs are `make run` (set up, generate and validate the example)
# and `make test` (set up, then the test suite). Both install what they need: a venv in .venv and the
# external tools in .tools (scripts/install-tools.sh).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SPEC ?= specs/real-estate-scraper.yaml
OUT ?= generated

.PHONY: run test setup tools venv clean

run: setup
	$(BIN)/monstack generate $(SPEC) -o $(OUT)
	$(BIN)/monstack validate $(SPEC) --require-tools

test: setup
	$(BIN)/monstack generate $(SPEC) -o $(OUT) --check
	$(BIN)/monstack test $(SPEC)
	$(BIN)/pytest -q

setup: venv tools

venv: $(BIN)/monstack

$(BIN)/monstack: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

tools:
	bash scripts/install-tools.sh

clean:
	rm -rf $(VENV) .tools .pytest_cache
