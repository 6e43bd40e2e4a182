# The front door. `make test` and `make demo` are the two set-up commands in the README:
# each installs missing Debian packages, configures and builds what it needs, then runs.
.PHONY: all deps build test test-asan test-tsan bench demo fuzz format tidy clean

JOBS ?= $(shell nproc)

all: build

deps:
	@scripts/install-deps.sh

build/%/build.ninja: CMakeLists.txt CMakePresets.json | deps
	cmake --preset $* > /dev/null

build: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS)

test: build
	ctest --preset release

test-asan: deps build/asan/build.ninja
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

test-tsan: deps build/tsan/build.ninja
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan

bench: build
	build/release/bin/rill-microbench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
	  --benchmark_enable_random_interleaving=true \
	  --benchmark_out=build/release/microbench.json --benchmark_out_format=json

demo: build
	build/release/bin/rill demo

# The codec decode fuzzer (clang, libFuzzer, ASan + UBSan), for a bounded number of inputs:
# seeds are valid records and a schema blob; the corpus it grows is kept in build/fuzz/corpus.
FUZZ_RUNS ?= 200000
fuzz: deps build/fuzz/build.ninja
	cmake --build --preset fuzz -j $(JOBS)
	rm -rf build/fuzz/seeds && mkdir -p build/fuzz/seeds build/fuzz/corpus
	build/fuzz/bin/codecs_fuzz_seeds build/fuzz/seeds
	build/fuzz/bin/codecs_decode_fuzzer -runs=$(FUZZ_RUNS) -max_len=4096 -seed=1 -print_final_stats=1 \
	  build/fuzz/corpus build/fuzz/seeds

format:
	git ls-files '*.h' '*.cpp' | xargs clang-format -i

tidy: build/release/build.ninja
	git ls-files '*.cpp' | xargs clang-tidy -p build/release --quiet

clean:
	rm -rf build
