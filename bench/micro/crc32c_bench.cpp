// crc32c/<impl>/<bytes>: the hardware path against the portable table, same run.
#include <benchmark/benchmark.h>

#include <vector>

#include "rill/base/crc32c.h"

namespace {

template <auto Fn>
void BM_Crc32c(benchmark::State& state) {
  std::vector<unsigned char> buf(static_cast<std::size_t>(state.range(0)), 0x5a);
  std::uint32_t crc = 0;
  for (auto _ : state) {
    crc = Fn(crc, buf.data(), buf.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

BENCHMARK(BM_Crc32c<&rill::crc32c::ExtendPortable>)->Name("crc32c/portable")->Arg(64)->Arg(512)->Arg(4096);
BENCHMARK(BM_Crc32c<&rill::crc32c::ExtendHardware>)->Name("crc32c/hardware")->Arg(64)->Arg(512)->Arg(4096);

}  // namespace
