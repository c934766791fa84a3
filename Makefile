# conventions-extract: `make extract` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
VALIDATA := .venv-validata/.installed
INPUT ?= samples
OUTPUT ?= outputs
ARGS ?=

.PHONY: extract test test-quick review lint bench publish docs system-deps clean

extract: $(STAMP) system-deps
	$(VENV)/bin/conventions-extract extract $(INPUT) -o $(OUTPUT) $(ARGS)

test: $(DEV_STAMP) $(VALIDATA)
	@bash scripts/system-deps.sh test
	$(PY) -m pytest -q $(ARGS)

# Everything but OCR, Chromium, property runs, runs killed midway, clusters, validata and
# LibreOffice: a minute or so.
test-quick: $(DEV_STAMP)
	$(PY) -m pytest -q -m "not ocr and not browser and not slow" $(ARGS)

review: $(DEV_STAMP) extract
	@bash scripts/system-deps.sh test
	$(VENV)/bin/conventions-extract review $(OUTPUT)

bench: $(DEV_STAMP) system-deps
	$(PY) -m bench samples -o $(OUTPUT)

publish: $(STAMP)
	$(VENV)/bin/conventions-extract publish $(OUTPUT) $(ARGS)

docs: $(STAMP)
	$(VENV)/bin/conventions-extract docs

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check pipeline tests bench
	$(VENV)/bin/ruff format --check pipeline tests bench

# Run-time packages only, and the project itself as an editable install: the
# `conventions-extract` command, reading its patterns/ from this folder.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	$(PIP) --no-deps --editable .
	touch $@

# Tests and tools, and the Dask cluster extra the tests exercise, on top.
$(DEV_STAMP): $(STAMP) requirements-dev.txt requirements-cluster.txt
	$(PIP) -r requirements-dev.txt -r requirements-cluster.txt
	touch $@

$(VALIDATA): requirements-validata.txt
	test -x .venv-validata/bin/python || $(PYTHON) -m venv .venv-validata
	.venv-validata/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-validata.txt
	touch $@

system-deps:
	@bash scripts/system-deps.sh

clean:
	rm -rf $(VENV) .venv-validata outputs
