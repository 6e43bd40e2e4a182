// BenchConfig: the flag values `rill bench` accepts and the combinations it refuses.
#include "rill/bench/e2e/bench_config.h"

#include <catch2/catch.hpp>

using namespace rill::bench;

TEST_CASE("CPU lists: singles, ranges, mixed - malformed ones are refused", "[bench][config]") {
  CHECK(ParseCpuList("0,1") == std::vector<int>{0, 1});
  CHECK(ParseCpuList("0-3") == std::vector<int>{0, 1, 2, 3});
  CHECK(ParseCpuList("2,0-1") == std::vector<int>{2, 0, 1});
  for (const char* bad : {"", ",", "0,", "a", "1-", "3-1", "-1", "0;1", "1,,2"}) {
    INFO(bad);
    CHECK(!ParseCpuList(bad).has_value());
  }
}

TEST_CASE("names parse to their enums and nothing else", "[bench][config]") {
  CHECK(ParseDurability("interval") == rill::journal::Durability::kInterval);
  CHECK(ParseAckLevel("applied") == rill::engine::AckLevel::kApplied);
  CHECK(!ParseAckLevel("synced").has_value());
}

TEST_CASE("Validate refuses what cannot run", "[bench][config]") {
  BenchConfig c;
  CHECK(c.Validate().empty());
  BenchConfig ring = c;
  ring.ring_size = 1000;
  CHECK(ring.Validate().find("--ring-size") != std::string::npos);
  BenchConfig applied = c;
  applied.ack = rill::engine::AckLevel::kApplied;
  applied.projectors = 0;
  CHECK(applied.Validate().find("--ack applied") != std::string::npos);
  BenchConfig batch = c;
  batch.max_batch = c.ring_size * 2;
  CHECK(!batch.Validate().empty());
  BenchConfig producers = c;
  producers.producers = 0;
  CHECK(!producers.Validate().empty());
  BenchConfig aggregates = c;
  aggregates.aggregates = 0;
  CHECK(aggregates.Validate().find("--aggregates") != std::string::npos);
}
