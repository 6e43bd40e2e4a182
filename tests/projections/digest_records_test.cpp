// A projector thread over an engine journal with digest records (journal record type 2): the
// digests are skipped, yet every projector's applied position moves past them, so WaitFor on
// the last committed position returns and the balances match the engine's.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "rill/codecs/schema_registry.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/projections/projector_thread.h"
#include "rill/tests/support/bank_digest_journal.h"
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

}  // namespace

TEST_CASE("a projector thread skips digest records and still reaches committed", "[projections][digest]") {
  rill::test::TempDir tmp("rill-proj-digest");
  const std::string dir = tmp.Sub("j");
  const rill::test::BankDigestJournal w = rill::test::WriteBankDigestJournal(dir);
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
