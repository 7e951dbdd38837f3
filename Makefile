# The two commands of the README: `make up` and `make test`. Both install what is missing first.
.PHONY: setup up test lint bench

setup:
	@scripts/setup.sh

up: setup
	.venv/bin/cradle up

lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy services workers models bench chatbot
	docker-compose -f docker-compose.yml config -q

test: lint
	scripts/pytest.sh

bench: setup
	.venv/bin/python -m bench
