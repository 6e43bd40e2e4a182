// Shared by the tests of the readers that must skip the engine's state-digest records (inspect,
// projector threads): a small bank journal written by the real Engine with a digest record
// every 4 commands, and what it holds.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <string>

#include "rill/engine/engine.h"
#include "rill/engine/event_record.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/journal/journal_reader.h"

namespace rill::test {

struct BankDigestJournal {
  std::uint64_t last_position = 0;
  std::uint64_t digests = 0;                       // records of kDigestRecordType
  bool last_is_digest = false;                     // the journal ends with a digest record
  std::map<std::uint64_t, std::int64_t> balances;  // by account
};

// Opens 4 accounts and deposits into them: 40 commands, a digest record every 4.
inline BankDigestJournal WriteBankDigestJournal(const std::string& dir) {
  using namespace rill::examples::bank;
  rill::engine::EngineOptions o;
  o.journal.directory = dir;
  o.journal.segment_size = 1 << 20;
  o.ring_size = 1024;
  o.log_to_stderr = false;
  o.digest_interval_commands = 4;
  auto e = rill::engine::Engine<BankDomain>::Open(o);
  INFO(e.status().ToString());
  REQUIRE(e.ok());
  BankDigestJournal w;
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
    w.digests += w.last_is_digest ? 1 : 0;
  }
  return w;
}

}  // namespace rill::test
