// Shared by the engine-level writer tests (engine_test.cpp, sync_failure_test.cpp): a small
// bank engine on a real journal in a temporary directory.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"

namespace rill::testing {

using BankEngine = engine::Engine<examples::bank::BankDomain>;

// 1 MiB segments, a 64-slot ring, room for 1024 accounts, quiet.
inline engine::EngineOptions SmallBankOptions(const std::string& dir,
                                              journal::Durability durability = journal::Durability::kNone) {
  engine::EngineOptions o;
  o.journal.directory = dir;
  o.journal.segment_size = 1u << 20;
  o.journal.durability = durability;
  o.ring_size = 64;
  o.processor.expected_aggregates = 1024;
  o.processor.idempotency_window = 1u << 12;
  o.log_to_stderr = false;
  o.ack_latency_sample_every = 1;  // the counters tests count every acknowledgement
  return o;
}

inline std::unique_ptr<BankEngine> OpenBank(const engine::EngineOptions& o) {
  auto e = BankEngine::Open(o);
  INFO((e.ok() ? std::string("ok") : e.status().ToString()));
  REQUIRE(e.ok());
  return std::move(e).value();
}

}  // namespace rill::testing
