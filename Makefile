.PHONY: run test test-unit bench stop status lint format

run:        ## the whole system locally (infrastructure, sandboxes, services, demo data)
	./scripts/run.sh

test:       ## the whole test suite (what CI runs)
	./scripts/test.sh

test-unit:  ## fast unit tests only
	./scripts/test.sh -m "not integration"

bench:      ## benchmark the CCV Shop → Octopus slice (writes tests/bench/RESULTS.md and results.json)
	uv run python tests/bench/run.py $(BENCH_ARGS)

stop:       ## stop the local infrastructure
	uv run python -m koppel_localstack stop

status:
	uv run python -m koppel_localstack status

format:
	uv run ruff format . && uv run ruff check --fix .
