# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: setup demo test test-slow test-all typecheck openapi clean

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

# strict types on the engine (pyproject.toml [tool.mypy] says which modules)
typecheck: setup
	.venv/bin/mypy

# the API's committed contract (docs/openapi.json), written again after a change to the API
openapi: setup
	.venv/bin/jobber-robot openapi

clean:
	rm -rf .data .venv test-results
