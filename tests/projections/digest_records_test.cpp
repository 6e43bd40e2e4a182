// A projector thread over an engine journal with digest records (journal record type 2): the
// digests are skipped, yet every projector's applied position moves past them, so WaitFor on
// the last committed position returns and the balances match the engine's.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "rill/codecs/schema_registry.h"
#include "rill/engine/engine.h"
#include "rill/engine/event_record.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/journal/journal_reader.h"
#include "rill/projections/bank/balances.h"
#include "rill/projections/projector_thread.h"
#include "rill/tests/support/temp_dir.h"

namespace {

using namespace rill::examples::bank;
using namespace std::chrono_literals;
namespace projections = rill::projections;

const rill::codecs::SchemaRegistry& BankRegistry() {
  static const rill::codecs::SchemaRegistry reg = [] {
    rill::codecs::SchemaRegistryBuilder b;
    BankDomain::RegisterEvents(b);
    return std::move(std::move(b).Build()).value();
  }();
  return reg;
}

struct Written {
  std::uint64_t last_position = 0, digests = 0;
  bool last_is_digest = false;
  std::map<std::uint64_t, std::int64_t> balances;
};

Written WriteEngineJournal(const std::string& dir) {
  rill::engine::EngineOptions o;
  o.journal.directory = dir;
  o.journal.segment_size = 1 << 20;
  o.ring_size = 1024;
  o.log_to_stderr = false;
  o.digest_interval_commands = 4;
  auto e = rill::engine::Engine<BankDomain>::Open(o);
  INFO(e.status().ToString());
  REQUIRE(e.ok());
  Written w;
  for (std::uint64_t i = 1; i <= 4; ++i) {
    REQUIRE((*e)->execute(OpenAccount{.account = i, .owner = 100 + i, .currency = 978}, {.command_id = i}).accepted());
    w.balances[i] = 0;
  }
  for (std::uint64_t i = 5; i <= 40; ++i) {
    const std::uint64_t account = i % 4 + 1;
    REQUIRE((*e)->execute(Deposit{.account = account, .amount = static_cast<std::int64_t>(i)}, {.command_id = i})
                .accepted());
    w.balances[account] += static_cast<std::int64_t>(i);
  }
  (*e)->Stop();
  auto r = rill::journal::JournalReader::Open({.directory = dir});
  REQUIRE(r.ok());
  rill::journal::Record rec;
  while ((*r)->Next(&rec) == rill::journal::ReadStatus::kRecord) {
    w.last_position = rec.position;
    w.last_is_digest = rec.type == rill::engine::kDigestRecordType;
    w.digests += w.last_is_digest;
  }
  return w;
}

}  // namespace

TEST_CASE("a projector thread skips digest records and still reaches committed", "[projections][digest]") {
  rill::test::TempDir tmp("rill-proj-digest");
  const std::string dir = tmp.Sub("j");
  const Written w = WriteEngineJournal(dir);
  REQUIRE(w.digests >= 1);
  CAPTURE(w.last_position, w.digests, w.last_is_digest);

  projections::ProjectorThreadOptions o;
  o.name = "digest";
  o.journal_directory = dir;
  o.registry = &BankRegistry();
  o.idle_wait_ns = 2'000'000;
  auto t = projections::ProjectorThread::Create(std::move(o));
  INFO(t.status().ToString());
  REQUIRE(t.ok());
  auto* balances = (*t)->Add<projections::bank::Balances>();
  REQUIRE((*t)->Start().ok());
  const rill::Status s = balances->WaitFor(w.last_position, 60s);
  INFO(s.ToString());
  REQUIRE(s.ok());
  for (const auto& [account, balance] : w.balances) {
    const auto b = balances->model().Get(account);
    REQUIRE(b.has_value());
    CHECK(b->balance == balance);
  }
  (*t)->Stop();
}
