# The two commands of the README: `make demo` and `make test`. Both install what is missing first.
SWIFT ?= swift
BIN := .build/debug

.PHONY: all deps build demo test clean bench-plates bench-wim bench-store bench-delivery bench-capture crash-test

all: build

deps:
	Scripts/install-deps

build: deps
	$(SWIFT) build

# Until the whole unit runs on its simulators, the demo replays a day at a two-lane station
# through the decision core and shows each decision.
demo: build
	@echo "== weighpoint version"
	@$(BIN)/weighpoint version
	@echo
	@echo "== weighpoint replay Scenarios/demo-station.jsonl (decisions signed into demo-data/evidence)"
	@rm -rf demo-data && mkdir -p demo-data
	@$(BIN)/weighpoint keygen --alg sm2 --out demo-data/key
	@$(BIN)/weighpoint replay Scenarios/demo-station.jsonl --summary --store demo-data/evidence --key demo-data/key/key.pem | Scripts/show-decisions
	@echo
	@echo "== the signed records, verified; record 2 exported and checked with the openssl command line"
	@$(BIN)/weighpoint verify demo-data/evidence
	@$(BIN)/weighpoint records export --data demo-data/evidence --out demo-data/export-2 2
	@openssl dgst -sm3 -verify demo-data/export-2/pubkey.pem -sigopt distid:1234567812345678 \
	  -signature demo-data/export-2/record.sig demo-data/export-2/record.json
	@echo
	@echo "== delivery to the reference case-system receiver over HTTPS with client certificates"
	@Scripts/demo-delivery
	@echo
	@echo "== a WIM controller simulator on Modbus TCP loopback, read by the driver"
	@Scripts/demo-wim

test: build
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	Scripts/crash-test 10
	Scripts/capture-test

# The full crash test: 50 SIGKILLs of a store under load.
crash-test: build
	Scripts/crash-test 50

clean:
	rm -rf .build

# Plate index benchmark (BENCHMARKS.md): release build, rapidfuzz in a venv under .build/.
BENCH_VENV := .build/bench-venv
$(BENCH_VENV)/bin/python:
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q rapidfuzz

bench-plates: deps $(BENCH_VENV)/bin/python
	$(SWIFT) build -c release --product weighpoint
	.build/release/weighpoint plates bench --rapidfuzz $(BENCH_VENV)/bin/python

# Evidence store benchmark (BENCHMARKS.md).
bench-store: deps
	$(SWIFT) build -c release --product weighpoint
	.build/release/weighpoint store bench --dir $(CURDIR)/.build

# Capture cost per frame in the VM against v4l2-ctl, and the ring against a bare copy (BENCHMARKS.md).
bench-capture: deps
	$(SWIFT) build -c release --product weighpoint
	Scripts/capture-bench

# Backlog drain to the case system (BENCHMARKS.md).
bench-delivery: deps
	$(SWIFT) build -c release --product weighpoint
	.build/release/weighpoint delivery-bench --dir $(CURDIR)/.build

# WIM decoding and poll loop benchmark (BENCHMARKS.md).
bench-wim: deps
	$(SWIFT) build -c release --product weighpoint
	.build/release/weighpoint wim bench
