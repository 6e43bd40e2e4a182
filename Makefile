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

# The parts (Google Benchmark), then the engine end to end with its same-run baselines (mutex,
# PostgreSQL per transaction and COPY): summary on stdout, JSON in build/release/bench.json,
# latency plot in build/release/bench-latency.svg. BENCH_ARGS adds `rill bench` flags.
BENCH_SECONDS ?= 5
BENCH_ARGS ?=
bench: build
	build/release/bin/rill-microbench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
	  --benchmark_enable_random_interleaving=true \
	  --benchmark_out=build/release/microbench.json --benchmark_out_format=json
	build/release/bin/rill bench --workload bank --producers 1 --projectors 1 --durability none --ack journaled \
	  --inflight 4096 --max-batch 1024 \
	  --seconds $(BENCH_SECONDS) --baselines --baseline-seconds 3 \
	  --json build/release/bench.json --plot build/release/bench-latency.svg $(BENCH_ARGS)

# The bank workload on the engine for a few seconds with a balances projector, then
# `rill inspect info` and `rill replay --verify` of its journal; in a temporary directory
# (DEMO_ARGS="--dir demo-data" keeps it).
DEMO_ARGS ?=
demo: build
	build/release/bin/rill demo --seconds 3 $(DEMO_ARGS)

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
