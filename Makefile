# Winnow: `make demo` runs the quickstart; `make test` runs the first tier of the tests (a fresh clone, nothing
# beside it); `make test-full` the second tier, on the whole shared data sets (WINNOW_DATA, default ../shared/data).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-full test-long lint bench clean fixtures

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0  # the CPU build on disk; before [eval], whose range it satisfies (no CUDA download)
	$(BIN)/pip install -q -e ".[all,ray,test,hf]"
	touch $(STAMP)

demo: install
	$(BIN)/winnow run examples/quickstart.yaml --workers 2 --overwrite
	@echo
	$(BIN)/winnow stats out/quickstart
	$(BIN)/winnow report out/quickstart -o out/quickstart/report.html
	$(BIN)/winnow card out/quickstart -o out/quickstart/DATACARD.md
	@echo
	@echo "kept records: out/quickstart/data/   report: out/quickstart/report.html   data card: out/quickstart/DATACARD.md"
	@echo "next: $(BIN)/winnow run examples/curate.yaml --overwrite   (language, licences, PII, dedup, splits)"
	@echo "      $(BIN)/winnow run examples/finetune.yaml --overwrite  (fine-tuning data: conversations and preference pairs)"

test: install
	bash scripts/install-browser.sh
	bash scripts/install-postgres.sh
	bash scripts/install-llm-server.sh  # llama.cpp's server for tests/synth, in its own venv .venv-llm (built once, wheel cached)
	$(BIN)/python -m pytest -q

test-full: install
	bash scripts/install-postgres.sh
	$(BIN)/python -m pytest -q -m "full and not long"

# Second-tier runs too long for CI (the planted ablation at its real budget).
test-long: install
	$(BIN)/python -m pytest -q -m long

# Re-cut tests/data/shared from the shared data sets (see scripts/make_fixtures.py).
fixtures: install
	$(BIN)/python scripts/make_fixtures.py

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports  # the layers of docs/architecture.md (contracts in pyproject.toml)

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf out build .pytest_cache
