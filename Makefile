# autonic — top-level entry points. `make demo` and `make test` are all a new user types.
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_GEN   = -G Ninja

.PHONY: deps build build-asan demo test test-fast bench clean

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

# Full suite: release build tests (incl. CLI acceptance checks) + the same unit tests under ASan/UBSan.
test: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD_SAN) && ctest --output-on-failure -j $(JOBS) -L unit

bench: build
	$(BUILD)/autonic bench tcp

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
