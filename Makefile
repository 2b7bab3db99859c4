# The two commands of the README: `make up` starts the whole platform, `make test` runs every test.
.PHONY: setup up down test router

export APOLLO_TELEMETRY_DISABLED := true

setup:
	scripts/setup

router: setup
	.venv/bin/labs64 router build

up: setup
	.venv/bin/labs64 up
	.venv/bin/labs64 seed --if-empty

down:
	.venv/bin/labs64 down

test: router
	.venv/bin/pytest
