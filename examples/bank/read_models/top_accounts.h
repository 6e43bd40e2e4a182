// rill/projections/bank/top_accounts.h: the N open accounts with the highest balances.
//
//   auto* top = thread->Add<rill::projections::bank::TopAccounts>({}, TopAccountsOptions{.n = 10});
//   rill::projections::bank::TopList t = top->model().Top();   // a consistent copy, any thread
//
// The projector keeps a private balance per account (a dense vector grown by doubling) and a
// bounded candidate set of 4N accounts with the invariant "every open account outside the set
// has a (balance, -id) key <= threshold_". An event costs O(1) (a candidate's key changes, or
// an outsider rises above the threshold and enters, evicting the lowest). When fewer than N
// candidates remain above the threshold, the set is rebuilt by one scan of all accounts
// (amortised: 3N+1 candidates must fall first). The ranking is published once per batch into
// one seqlocked record, so a query copies a whole, consistent list.
// Ties: higher balance first, then lower account id. Limits: n <= kMaxTop (16).
// Thread safety: Apply/EndBatch/Save/Load on the projector thread; Top from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/projections/seqlock.h"

namespace rill::projections::bank {

inline constexpr std::size_t kMaxTop = 16;

struct TopEntry {
  std::uint64_t account = 0;
  std::int64_t balance = 0;
};
struct TopList {
  std::uint64_t count = 0;  // entries used, highest balance first
  std::array<TopEntry, kMaxTop> entries{};
};

struct TopAccountsOptions {
  std::size_t n = 10;  // clamped to [1, kMaxTop]
};

class TopAccounts {
 public:
  static constexpr std::string_view kName = "bank.top_accounts";
  static constexpr std::uint32_t kVersion = 1;

  explicit TopAccounts(TopAccountsOptions options = {});

  TopList Top() const noexcept { return published_.Load(); }

  const char* Apply(const codecs::DecodedEvent& e);
  void EndBatch(std::uint64_t position);
  void Save(std::vector<std::byte>& out) const;
  Status Load(std::span<const std::byte> in);

  std::uint64_t rescans() const noexcept { return rescans_; }  // projector thread (tests)

 private:
  struct Key {  // ordered by balance, then by lower id
    std::int64_t balance;
    std::uint64_t account;
    bool operator>(const Key& o) const noexcept {
      return balance != o.balance ? balance > o.balance : account < o.account;
    }
  };
  static constexpr std::uint8_t kAbsent = 0, kOpen = 1, kClosed = 2;
  const char* Change(std::uint64_t account, std::int64_t delta);
  void Touch(std::uint64_t account);  // re-ranks after the account's balance changed
  void RemoveCandidate(std::uint64_t account);
  void Rescan();
  std::size_t Rank();  // sorts the candidates into ranked_, best first; returns how many

  std::size_t n_, capacity_;
  std::vector<std::int64_t> balance_;      // by account id
  std::vector<std::uint8_t> state_;        // kAbsent / kOpen / kClosed
  std::vector<std::uint8_t> member_;       // 1 when in candidates_
  std::vector<std::uint64_t> candidates_;  // account ids, at most capacity_ = 4n
  bool has_threshold_ = false;             // false: every open account is a candidate
  Key threshold_{0, 0};
  bool dirty_ = true;
  std::uint64_t rescans_ = 0;
  std::array<Key, 4 * kMaxTop> ranked_{};
  std::vector<Key> scratch_;  // Rescan's; keeps its capacity
  Seqlocked<TopList> published_;
};

}  // namespace rill::projections::bank
