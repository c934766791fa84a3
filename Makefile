# conventions-extract: `make extract` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
INPUT ?= samples
OUTPUT ?= outputs
ARGS ?=

.PHONY: extract test review lint bench publish docs system-deps clean

extract: $(STAMP) system-deps
	$(PY) -m pipeline extract $(INPUT) -o $(OUTPUT) $(ARGS)

test: $(STAMP)
	@bash scripts/system-deps.sh test
	$(PY) -m pytest -q $(ARGS)

review: extract
	@bash scripts/system-deps.sh test
	$(PY) -m pipeline review $(OUTPUT)

bench: $(STAMP) system-deps
	$(PY) -m bench samples -o $(OUTPUT)

publish: $(STAMP)
	$(PY) -m pipeline publish $(OUTPUT) $(ARGS)

docs: $(STAMP)
	$(PY) -m pipeline docs

lint: $(STAMP)
	$(VENV)/bin/ruff check pipeline tests bench
	$(VENV)/bin/ruff format --check pipeline tests bench

$(STAMP): requirements.txt requirements-cluster.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-cluster.txt
	touch $@

system-deps:
	@bash scripts/system-deps.sh

clean:
	rm -rf $(VENV) outputs
