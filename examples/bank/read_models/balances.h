// rill/projections/bank/balances.h: balance per account (bank reference domain).
//
//   auto* v = thread->Add<rill::projections::bank::Balances>();
//   if (auto b = v->model().Get(account)) use(b->balance, b->version);   // any thread, ~10 ns
//
// Layout: a dense array indexed by account id (ChunkedArray: 4096 ids per chunk, allocated on
// first use), one 32-byte record per account, two per cache line: a seqlock and three words
// (balance, version, state|currency). An event rewrites one record: no allocation, no hashing.
// Limits: account ids < BalancesOptions::max_accounts (default 2^24); a larger id fails the
// event (failure policy). Thread safety: Apply/Save/Load on the projector thread; Get anywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/projections/chunked_array.h"
#include "rill/projections/seqlock.h"

namespace rill::projections::bank {

enum class AccountState : std::uint8_t { kNone = 0, kOpen = 1, kClosed = 2 };

struct AccountBalance {
  std::int64_t balance = 0;   // minor units
  std::uint64_t version = 0;  // the account stream's version after its last event
  AccountState state = AccountState::kNone;
  std::uint16_t currency = 0;
};

struct BalancesOptions {
  std::uint64_t max_accounts = std::uint64_t{1} << 24;
};

class Balances {
 public:
  static constexpr std::string_view kName = "bank.balances";
  static constexpr std::uint32_t kVersion = 1;

  explicit Balances(BalancesOptions options = {}) : accounts_(options.max_accounts) {}

  // Any thread. nullopt for an account never opened.
  std::optional<AccountBalance> Get(std::uint64_t account) const noexcept {
    const Record* r = accounts_.Find(account);
    if (r == nullptr) return std::nullopt;
    std::uint64_t w[3];
    r->cell.Read(w);
    if ((w[2] & 0xff) == 0) return std::nullopt;
    return AccountBalance{static_cast<std::int64_t>(w[0]), w[1], static_cast<AccountState>(w[2] & 0xff),
                          static_cast<std::uint16_t>(w[2] >> 8)};
  }

  const char* Apply(const codecs::DecodedEvent& e);
  void Save(std::vector<std::byte>& out) const;
  Status Load(std::span<const std::byte> in);

 private:
  struct alignas(32) Record {
    SeqlockWords<3> cell;  // balance, version, state | currency << 8
  };
  static_assert(sizeof(Record) == 32, "two records per cache line");
  const char* Move(const codecs::DecodedEvent& e, std::int64_t delta);

  ChunkedArray<Record> accounts_;
};

}  // namespace rill::projections::bank
