# Two commands on a fresh machine: `make demo` and `make test`. Only python3 and make needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo test bench bench-extraction bench-classify bench-dedup train clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	$(BIN)/presswatch --config samples/presswatch.toml run --all-periods

test: $(STAMP)
	mkdir -p .tmp && TMPDIR=$(CURDIR)/.tmp $(BIN)/python -m pytest -q

bench: bench-extraction bench-classify bench-dedup

bench-extraction: $(STAMP)
	$(BIN)/python tests/benchmarks/bench_extraction.py

bench-classify: $(STAMP)
	$(BIN)/python tests/benchmarks/bench_classify.py

bench-dedup: $(STAMP)
	$(BIN)/python tests/benchmarks/bench_dedup.py

train: $(STAMP)
	$(BIN)/presswatch train

clean:
	rm -rf $(VENV) .presswatch samples/.presswatch .pytest_cache
