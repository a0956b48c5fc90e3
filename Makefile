# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: setup demo test test-slow test-all clean

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/jobber-robot demo

test: setup
	.venv/bin/python -m pytest

test-slow: setup
	.venv/bin/python -m pytest -m slow

test-all: setup
	.venv/bin/python -m pytest -m ''

clean:
	rm -rf .data .venv test-results
