# Thin wrapper around CMake: the two README commands and a few conveniences.
# Real build logic lives in CMakeLists.txt.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
DATA       ?= ./var/vitae
LISTEN     ?= 127.0.0.1:8420
CMAKE_ARGS ?=

.PHONY: all deps build run test test-asan fuzz unit format format-check clean

all: build

deps:
	@scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@if [ ! -x $(BUILD)/bin/vitaed ]; then \
	    echo "make run: $(BUILD)/bin/vitaed is not built by this version of vitae" >&2; exit 1; fi
	$(BUILD)/bin/vitaed --data $(DATA) --listen $(LISTEN)

# The full check that CI runs: every ctest test, the unit tests and the fuzz corpus replays
# again under ASan+UBSan, and the formatting check.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory format-check

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DVITAE_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L 'unit|fuzz-smoke'

# libFuzzer (clang) on every parser of outside input, FUZZ_SECONDS each; FUZZ_TARGETS picks
# some (tests/fuzz/README.md).
fuzz: deps
	@scripts/install-fuzz-deps
	cmake -C tests/fuzz/cache.cmake -S . -B $(FUZZ_BUILD) $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz-all
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Quick inner loop: build and run only the unit tests.
unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

format:
	clang-format -i $(SOURCES)

format-check:
	@command -v clang-format >/dev/null || { echo "format-check: clang-format not installed" >&2; exit 1; }
	clang-format --dry-run -Werror $(SOURCES)
	@echo "format-check: $(words $(SOURCES)) files clean"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
