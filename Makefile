# The two commands of the README: `make demo` and `make test`. Both install what is missing first.
SWIFT ?= swift
BIN := .build/debug

.PHONY: all deps build demo test clean bench-plates bench-wim bench-store bench-delivery bench-capture bench-unit bench-recognizer crash-test powercut fuzz fuzz-console

all: build

deps:
	Scripts/install-deps

build: deps
	$(SWIFT) build

# The whole unit on loopback simulators: the WIM simulator on real Modbus TCP, replay cameras
# from Images/, simulated ANPR reads posted to the unit's HTTP endpoint, the signed store, and
# the reference case receiver over HTTPS with client certificates; then the checks an auditor
# would run on what it left in demo-data/.
demo: build
	@echo "== weighpoint version"
	@$(BIN)/weighpoint version
	@echo
	@rm -rf demo-data && mkdir -p demo-data
	@Scripts/make-pki demo-data/pki
	@Scripts/make-plate-images demo-data/plates --count 0 --sequences 24 --frames 6 --size 1280x720 --seed 42 --no-trailers >/dev/null
	@echo "== the unit: lane 1's front camera reads plates with the built-in recogniser (generated plates), lane 2's camera pushes its reads over HTTPS with a bearer token"
	@$(BIN)/weighpoint-dev demo --vehicles 24 --data demo-data/unit --pki demo-data/pki --recognizer-plates demo-data/plates
	@echo
	@echo "== an auditor's checks: weighpoint verify, then record 1 exported and checked with the openssl command line"
	@$(BIN)/weighpoint verify demo-data/unit/evidence
	@$(BIN)/weighpoint verify demo-data/unit/case-system
	@$(BIN)/weighpoint records export --data demo-data/unit/evidence --out demo-data/export-1 1 >/dev/null
	@openssl dgst -sm3 -verify demo-data/export-1/pubkey.pem -sigopt distid:1234567812345678 \
	  -signature demo-data/export-1/record.sig demo-data/export-1/record.json
	@$(BIN)/weighpoint-dev unit --check-config demo-data/unit/station.toml
	@echo
	@echo "== the technician console: a reference-vehicle calibration against the simulator, as the technician's terminal shows it"
	@Scripts/demo-console demo-data/console
	@echo
	@echo "== the decision core alone: a day at a two-lane station replayed (Scenarios/demo-station.jsonl)"
	@$(BIN)/weighpoint replay Scenarios/demo-station.jsonl --summary | Scripts/show-decisions
	@echo
	@echo "== the WIM driver alone against the simulator, with faults injected"
	@Scripts/demo-wim

test: build
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	Scripts/check-layout
	$(BIN)/input-fuzz Fuzz/corpus
	Scripts/crash-test 10
	Scripts/unit-test
	Scripts/hostile-test
	Scripts/faulty-wim-test
	Scripts/fulldisk-test
	Scripts/powercut-test 20
	Scripts/flushpoint-test
	Scripts/faildisk-test
	Scripts/unit-crash-test
	Scripts/package-test
	Scripts/console-test
	Scripts/recognizer-test
	Scripts/capture-test
	Scripts/console-vm-test

# The long power-cut test: 200 cuts of the VM's power under load (well over an hour: 118 cuts took 58 min).
powercut: build
	Scripts/powercut-test 200

# The full crash test: 50 SIGKILLs of a store under load.
crash-test: build
	Scripts/crash-test 50

# libFuzzer with AddressSanitizer on every parser of outside bytes (default 120 s per target).
fuzz: deps
	Scripts/fuzz-inputs $(FUZZ_TARGET_SECONDS)

# libFuzzer with AddressSanitizer on the technician console's input path (default 300 s).
fuzz-console: deps
	Scripts/fuzz-console $(FUZZ_SECONDS)

clean:
	rm -rf .build .build-fuzz

# Plate index benchmark (BENCHMARKS.md): release build, rapidfuzz in a venv under .build/.
BENCH_VENV := .build/bench-venv
$(BENCH_VENV)/bin/python:
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q rapidfuzz

bench-plates: deps $(BENCH_VENV)/bin/python
	$(SWIFT) build -c release --product weighpoint-dev
	.build/release/weighpoint-dev plates bench --rapidfuzz $(BENCH_VENV)/bin/python

# Evidence store benchmark (BENCHMARKS.md).
bench-store: deps
	$(SWIFT) build -c release --product weighpoint-dev
	.build/release/weighpoint-dev store bench --dir $(CURDIR)/.build

# Capture cost per frame in the VM against v4l2-ctl, and the ring against a bare copy (BENCHMARKS.md).
bench-capture: deps
	$(SWIFT) build -c release --product weighpoint-dev
	Scripts/capture-bench

# One vehicle end to end through the running unit, and the daemon's start-up and memory (BENCHMARKS.md).
bench-unit: deps
	$(SWIFT) build -c release --product weighpoint
	$(SWIFT) build -c release --product weighpointd
	$(SWIFT) build -c release --product weighpoint-dev
	.build/release/weighpoint-dev unit-bench --rates 10,50 --seconds 20 --dir $(CURDIR)/.build
	Scripts/daemon-bench

# Plate recognition against the published HyperLPR pipeline on generated plates (BENCHMARKS.md).
bench-recognizer: deps
	$(SWIFT) build -c release --product weighpoint
	Scripts/plate-eval --count 300 --sequences 120 --seed 2002

# Backlog drain to the case system (BENCHMARKS.md).
bench-delivery: deps
	$(SWIFT) build -c release --product weighpoint-dev
	.build/release/weighpoint-dev delivery-bench --dir $(CURDIR)/.build

# WIM decoding and poll loop benchmark (BENCHMARKS.md).
bench-wim: deps
	$(SWIFT) build -c release --product weighpoint-dev
	.build/release/weighpoint-dev wim bench
