.PHONY: run test test-unit bench faults audit stop status lint format

run:        ## the whole system locally (infrastructure, sandboxes, services, demo data)
	./scripts/run.sh

test:       ## the whole test suite (what CI runs)
	./scripts/test.sh

test-unit:  ## fast unit tests only
	./scripts/test.sh -m "not integration"

bench:      ## benchmark: every ledger's replay, each shop's ingest, realtime, CPU per order of every process, memory (writes tests/bench/RESULTS.md and results.json)
	./scripts/uv run python tests/bench/run.py $(BENCH_ARGS)

faults:     ## fault-injection run over every shop → ledger pair (writes tests/faults/RESULTS.md and results.json)
	./scripts/uv run python tests/faults/run.py $(FAULTS_ARGS)

audit:      ## known vulnerabilities in the locked dependencies (pip-audit; needs PyPI's JSON API or OSV)
	./scripts/audit.sh

stop:       ## stop the local infrastructure
	./scripts/uv run python -m koppel_localstack stop

status:
	./scripts/uv run python -m koppel_localstack status

format:
	./scripts/uv run ruff format . && ./scripts/uv run ruff check --fix .
