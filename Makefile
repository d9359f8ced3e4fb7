.PHONY: run test test-unit stop status lint format

run:        ## the whole system locally (infrastructure, sandboxes, services, demo data)
	./scripts/run.sh

test:       ## the whole test suite (what CI runs)
	./scripts/test.sh

test-unit:  ## fast unit tests only
	./scripts/test.sh -m "not integration"

stop:       ## stop the local infrastructure
	uv run python -m koppel_localstack stop

status:
	uv run python -m koppel_localstack status

format:
	uv run ruff format . && uv run ruff check --fix .
