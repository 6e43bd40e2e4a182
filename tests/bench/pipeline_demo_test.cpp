#include "rill/bench/e2e/pipeline_demo.h"

#include <catch2/catch.hpp>

#include "rill/tests/support/temp_dir.h"

// Ring -> writer -> journal -> tailer with real threads: every deposit submitted must be read
// back exactly once, decoded and verified, with gap-free positions and per-account versions.
TEST_CASE("the demo pipeline journals every submitted deposit exactly once", "[bench][pipeline]") {
  for (const auto durability : {rill::journal::Durability::kNone, rill::journal::Durability::kBatch}) {
    rill::test::TempDir dir("rill-demo");
    rill::bench::PipelineDemoOptions options;
    options.directory = dir.Sub("journal");
    options.producers = 3;  // more threads than this machine's cores: nothing may spin forever
    options.seconds = 0.2;
    options.ring_size = 64;  // wraps many times
    options.accounts = 97;
    options.durability = durability;
    auto report = rill::bench::RunPipelineDemo(options, stdout);
    REQUIRE(report.ok());
    INFO(report->problem);
    CHECK(report->consistent);
    CHECK(report->commands > 0);
    CHECK(report->events_read == report->commands);
    if (durability == rill::journal::Durability::kBatch) CHECK(report->syncs > 0);
  }
}
