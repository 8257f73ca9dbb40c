# zkcredit: the two commands a newcomer needs, and the steps behind them.
#
#   make demo    build everything, then run the demo on loopback
#   make test    build everything, then run the whole suite (also under ASan/UBSan)

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_GEN  ?= -G Ninja
# The sanitizer build keeps its assertions (a Debug build) but is optimised
# as ASan's authors advise: at -O0 the pairings made the suite crawl.
ASAN_OPT   ?= -g -O1

.PHONY: all bootstrap build demo test test-unit test-asan test-fuzz bench clean

all: build

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	@circuits/ceremony.sh
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DZKC_BUILD_BENCH=OFF > /dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo.py $(BUILD)

test: test-unit test-asan test-fuzz

test-unit: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE fuzz

test-asan: build
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DZKC_SANITIZE=ON \
		"-DCMAKE_CXX_FLAGS_DEBUG=$(ASAN_OPT)" "-DCMAKE_C_FLAGS_DEBUG=$(ASAN_OPT)" \
		-DZKC_BUILD_BENCH=OFF > /dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -LE 'fuzz|nonnative|journey'

test-fuzz: build
	@cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DZKC_FUZZ=ON \
		-DZKC_BUILD_MODULE=OFF -DZKC_BUILD_CLIENT=OFF -DZKC_BUILD_BENCH=OFF > /dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets
	@ctest --test-dir $(FUZZ_BUILD) --output-on-failure -j $(JOBS) -L fuzz --no-tests=ignore

bench:
	@scripts/bootstrap.sh --bench
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DZKC_BUILD_BENCH=ON > /dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
