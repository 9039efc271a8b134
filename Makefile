PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test lint demo bench bench-scale bench-scale-out clean venv browser

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy domain
	$(BIN)/lint-imports

# The pages' browser tests drive Debian's Chromium (never a downloaded build); installed here
# when missing. LEDIGHED_SKIP_BROWSER=1 skips them instead (they fail without a browser).
CHROMIUM := /usr/bin/chromium

browser:
	@if [ "$$LEDIGHED_SKIP_BROWSER" = 1 ] || [ -x $(CHROMIUM) ]; then :; else \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

test: lint browser
	$(BIN)/pytest -q

demo: $(VENV)/.installed
	$(BIN)/ledighed demo

bench: $(VENV)/.installed
	$(BIN)/python -m tools.bench --kafka

# Goal 3 of issue 9: one `run` instance against two in one group on the same backlog
# (PostgreSQL, a local broker); minutes.
bench-scale-out: $(VENV)/.installed
	$(BIN)/python -m tools.bench_scale_out

# Issue 9, point 5: reads at a national scale (100,000 members on PostgreSQL; takes many
# minutes). ARGS passes options, e.g. make bench-scale ARGS='--members 20000'.
bench-scale: $(VENV)/.installed
	$(BIN)/python -m tools.bench_scale $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
