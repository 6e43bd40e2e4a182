// Helpers shared by the projection tests: a bank journal written with JournalWriter + Encoder,
// and a plain reference model (std::map) computed alongside it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../journal/journal_test_util.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/blog/blog_domain.h"
#include "rill/journal/journal_writer.h"

namespace rill::projections::test {

using journal::test::TempDir;

inline const codecs::SchemaRegistry& Registry() {
  static const codecs::SchemaRegistry reg = [] {
    codecs::SchemaRegistryBuilder b;
    rill::examples::bank::BankDomain::RegisterEvents(b);
    rill::examples::blog::BlogDomain::RegisterEvents(b);
    return std::move(b).Build().value();
  }();
  return reg;
}

// Writes events into a journal, one batch per Commit.
class JournalBuilder {
 public:
  explicit JournalBuilder(const std::string& dir, std::size_t segment_size = 1 << 20,
                          journal::Durability durability = journal::Durability::kNone) {
    journal::WriterOptions o;
    o.directory = dir;
    o.segment_size = segment_size;
    o.durability = durability;
    o.sync_interval_ms = 3'600'000;  // kInterval: only an explicit Sync makes data durable
    o.schema_fingerprint = Registry().fingerprint();
    writer_ = std::move(journal::JournalWriter::Open(o)).value();
  }
  journal::JournalWriter& writer() { return *writer_; }

  template <typename Table, typename Build>
  std::uint64_t Add(std::uint64_t stream, std::uint64_t version, Build&& build) {
    const codecs::EnvelopeFields env{stream, version, now_ns_, ++command_};
    const auto rec = enc_.Encode<Table>(env, std::forward<Build>(build));
    auto span = writer_->Reserve(rec.size(), 1);
    if (!span.ok()) std::abort();
    std::memcpy(span->data(), rec.data(), rec.size());
    return ++pending_;
  }
  // A record that is not an event at all (fails decoding), as the failure-policy tests need.
  void AddGarbage() {
    auto span = writer_->Reserve(64, 1);
    if (!span.ok()) std::abort();
    std::memset(span->data(), 0x5a, span->size());
    ++pending_;
  }
  std::uint64_t Commit() {
    now_ns_ += 1000;
    auto last = writer_->CommitBatch(now_ns_);
    if (!last.ok()) std::abort();
    pending_ = *last;
    return *last;
  }
  std::uint64_t last() const { return writer_->committed_position(); }
  std::int64_t now_ns() const { return now_ns_; }

 private:
  std::unique_ptr<journal::JournalWriter> writer_;
  codecs::Encoder enc_;
  std::int64_t now_ns_ = 1'700'000'000'000'000'000;
  std::uint64_t command_ = 0;
  std::uint64_t pending_ = 0;
};

// The reference: what each bank read model must answer, computed the obvious way.
struct RefMovement {
  std::uint64_t position;
  std::int64_t amount;
  std::uint64_t counterparty;
  std::int64_t balance_after;
  int kind;  // MovementKind
};
struct RefAccount {
  std::int64_t balance = 0;
  std::uint64_t version = 0;
  int state = 0;  // 1 open, 2 closed
  std::uint16_t currency = 0;
  std::vector<RefMovement> movements;
};

class BankWorkload {
 public:
  explicit BankWorkload(JournalBuilder& j, std::uint64_t seed) : j_(j), rng_(seed) {}

  std::map<std::uint64_t, RefAccount>& accounts() { return accounts_; }

  void Open(std::uint64_t id) {
    RefAccount& a = accounts_[id];
    a.state = 1;
    a.version = 1;
    a.currency = static_cast<std::uint16_t>(978 + id % 3);
    j_.Add<bank::AccountOpened>(
        id, 1, [&](flatbuffers::FlatBufferBuilder& f) { return bank::CreateAccountOpened(f, id * 10, a.currency); });
  }
  void Move(std::uint64_t id, std::int64_t amount, int kind, std::uint64_t other) {
    RefAccount& a = accounts_[id];
    const std::uint64_t v = ++a.version;
    a.balance += amount;
    std::uint64_t pos = 0;
    switch (kind) {
      case 1:
        pos = j_.Add<bank::Deposited>(id, v, [&](auto& f) { return bank::CreateDeposited(f, amount); });
        break;
      case 2:
        pos = j_.Add<bank::Withdrawn>(id, v, [&](auto& f) { return bank::CreateWithdrawn(f, -amount); });
        break;
      case 3:
        pos = j_.Add<bank::TransferSent>(id, v, [&](auto& f) { return bank::CreateTransferSent(f, other, -amount); });
        break;
      default:
        pos = j_.Add<bank::TransferReceived>(id, v,
                                             [&](auto& f) { return bank::CreateTransferReceived(f, other, amount); });
    }
    a.movements.push_back(RefMovement{pos, amount, other, a.balance, kind});
  }
  void Close(std::uint64_t id) {
    RefAccount& a = accounts_[id];
    a.state = 2;
    const std::uint64_t v = ++a.version;
    j_.Add<bank::AccountClosed>(id, v, [&](auto& f) { return bank::CreateAccountClosed(f); });
  }

  // One command's events as one batch: open, deposit, withdraw, transfer (two events), close.
  std::uint64_t Step(std::uint64_t max_accounts) {
    std::uniform_int_distribution<std::uint64_t> pick(1, max_accounts);
    const std::uint64_t id = pick(rng_);
    RefAccount* a = accounts_.count(id) ? &accounts_[id] : nullptr;
    const int r = static_cast<int>(rng_() % 100);
    if (a == nullptr) {
      Open(id);
    } else if (a->state != 1) {
      // closed: do something elsewhere
      Deposit(FirstOpen());
    } else if (r < 40) {
      Move(id, static_cast<std::int64_t>(1 + rng_() % 1000), 1, 0);
    } else if (r < 60 && a->balance > 0) {
      Move(id, -static_cast<std::int64_t>(1 + rng_() % static_cast<std::uint64_t>(a->balance)), 2, 0);
    } else if (r < 97) {
      const std::uint64_t to = pick(rng_);
      if (to != id && accounts_.count(to) && accounts_[to].state == 1 && a->balance > 0) {
        const std::int64_t amount = static_cast<std::int64_t>(1 + rng_() % static_cast<std::uint64_t>(a->balance));
        Move(id, -amount, 3, to);
        Move(to, amount, 4, id);
      } else {
        Move(id, static_cast<std::int64_t>(1 + rng_() % 500), 1, 0);
      }
    } else {
      Close(id);
    }
    return j_.Commit();
  }

  std::vector<std::pair<std::uint64_t, std::int64_t>> Top(std::size_t n) const {
    std::vector<std::pair<std::uint64_t, std::int64_t>> v;
    for (const auto& [id, a] : accounts_)
      if (a.state == 1) v.emplace_back(id, a.balance);
    std::sort(v.begin(), v.end(),
              [](auto& x, auto& y) { return x.second != y.second ? x.second > y.second : x.first < y.first; });
    if (v.size() > n) v.resize(n);
    return v;
  }

 private:
  void Deposit(std::uint64_t id) {
    if (id == 0) {
      Open(1'000'000 + accounts_.size());
    } else {
      Move(id, 7, 1, 0);
    }
  }
  std::uint64_t FirstOpen() const {
    for (const auto& [id, a] : accounts_)
      if (a.state == 1) return id;
    return 0;
  }

  JournalBuilder& j_;
  std::mt19937_64 rng_;
  std::map<std::uint64_t, RefAccount> accounts_;
};

inline std::uint64_t SeedFromEnvOr(std::uint64_t fallback) {
  if (const char* s = std::getenv("RILL_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  return fallback;
}

}  // namespace rill::projections::test
