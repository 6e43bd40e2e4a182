// rill/projections/bank/statements.h: the last K movements of each account (a statement).
//
//   std::array<rill::projections::bank::Movement, 8> buf;
//   std::size_t n = statements->model().Recent(account, buf);   // newest first, any thread
//
// Layout: a dense array by account id (ChunkedArray, 1024 ids per chunk), one 384-byte record
// per account: a seqlock, the movement count, the running balance and a ring of kStatementDepth
// movements of five words each. An event writes one ring slot and two counters, and a query
// copies one record (6 cache lines). No allocation per event.
// Limits: kStatementDepth = 8 movements kept per account; account ids < max_accounts (2^22).
// Thread safety: Apply/Save/Load on the projector thread; Recent from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/projections/chunked_array.h"
#include "rill/projections/seqlock.h"

namespace rill::projections::bank {

inline constexpr std::size_t kStatementDepth = 8;

enum class MovementKind : std::uint8_t { kDeposit = 1, kWithdrawal = 2, kTransferOut = 3, kTransferIn = 4 };

struct Movement {
  std::uint64_t position = 0;  // the event's journal position
  std::int64_t timestamp_ns = 0;
  std::int64_t amount = 0;         // signed: + money in, - money out
  std::uint64_t counterparty = 0;  // the other account of a transfer, else 0
  std::int64_t balance_after = 0;
  MovementKind kind = MovementKind::kDeposit;
};

struct StatementsOptions {
  std::uint64_t max_accounts = std::uint64_t{1} << 22;
};

class Statements {
 public:
  static constexpr std::string_view kName = "bank.statements";
  static constexpr std::uint32_t kVersion = 1;

  explicit Statements(StatementsOptions options = {}) : accounts_(options.max_accounts) {}

  // Any thread: copies up to out.size() of the account's latest movements, newest first;
  // returns how many. 0 for an unknown account or one without movements.
  std::size_t Recent(std::uint64_t account, std::span<Movement> out) const noexcept;
  // Any thread: movements ever recorded for the account.
  std::uint64_t MovementCount(std::uint64_t account) const noexcept;

  const char* Apply(const codecs::DecodedEvent& e);
  void Save(std::vector<std::byte>& out) const;
  Status Load(std::span<const std::byte> in);

 private:
  static constexpr std::size_t kSlotWords = 5;    // position | kind << 56, ts, amount, counterparty, balance
  static constexpr std::size_t kHeaderWords = 3;  // count, balance, open flag
  static constexpr std::size_t kWords = kHeaderWords + kStatementDepth * kSlotWords;
  struct alignas(64) Record {
    SeqlockWords<kWords> cell;
  };
  const char* Add(const codecs::DecodedEvent& e, MovementKind kind, std::int64_t amount, std::uint64_t counterparty);

  ChunkedArray<Record, 10> accounts_;
};

}  // namespace rill::projections::bank
