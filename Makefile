# autonic — top-level entry points. `make demo` and `make test` are all a new user types.
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_GEN   = -G Ninja

.PHONY: deps build build-asan demo test test-fast bench clean fuzz fuzz-smoke interop

deps:
	@./scripts/deps.sh

$(BUILD)/build.ninja: | deps
	cmake $(CMAKE_GEN) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

$(BUILD_SAN)/build.ninja: | deps
	cmake $(CMAKE_GEN) -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DAUTONIC_SANITIZE=ON

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps $(BUILD_SAN)/build.ninja
	cmake --build $(BUILD_SAN) -j $(JOBS)

demo: build
	@./scripts/demo.sh $(BUILD)/autonic

# Full suite: release build tests (incl. CLI acceptance checks), the same unit tests under
# ASan/UBSan, then every fuzz target replays its corpus and fuzzes briefly (clang build), then
# the real-network interop cases (scripts/interop/run.sh: as root with /dev/net/tun; else SKIP).
test: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD_SAN) && ctest --output-on-failure -j $(JOBS) -L unit
	./scripts/fuzz.sh build && ./scripts/fuzz.sh smoke
	./scripts/interop/run.sh

# libFuzzer targets (clang, build-fuzz/; fuzz/README.md): every target FUZZ_SECONDS, one after
# the other; fuzz-smoke replays the seed corpus and fuzzes 10 s per target.
FUZZ_SECONDS ?= 60
fuzz: deps
	./scripts/fuzz.sh build && ./scripts/fuzz.sh run $(FUZZ_SECONDS)

fuzz-smoke: deps
	./scripts/fuzz.sh build && ./scripts/fuzz.sh smoke

# autonic against real Linux peers on TAP / QEMU wires (issue #10; scripts/interop/README.md).
# Root with /dev/net/tun; otherwise it prints what it skips and why.
interop: build
	./scripts/interop/run.sh

bench: build
	$(BUILD)/autonic bench tcp

clean:
	rm -rf $(BUILD) $(BUILD_SAN) build-fuzz
