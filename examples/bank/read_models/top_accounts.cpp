#include "rill/examples/bank/read_models/top_accounts.h"

#include <algorithm>

#include "rill/examples/bank/bank_domain.h"
#include "rill/projections/read_model.h"

namespace rill::projections::bank {

using codecs::EventTraits;

TopAccounts::TopAccounts(TopAccountsOptions options)
    : n_(std::clamp<std::size_t>(options.n, 1, kMaxTop)), capacity_(4 * n_) {
  candidates_.reserve(capacity_ + 1);
  published_.Store(TopList{});
}

const char* TopAccounts::Change(std::uint64_t account, std::int64_t delta) {
  if (account >= state_.size() || state_[account] != kOpen)
    return "bank.top_accounts: money moved on an account that is not open";
  balance_[account] += delta;
  Touch(account);
  return nullptr;
}

void TopAccounts::Touch(std::uint64_t account) {
  dirty_ = true;
  if (member_[account]) return;  // its key is read from balance_ when ranking
  const Key k{balance_[account], account};
  if (has_threshold_ && !(k > threshold_)) return;  // stays outside: the invariant holds
  if (candidates_.size() == capacity_) {
    // Evict the lowest candidate; it becomes an outsider, so the threshold rises to its key.
    auto lowest = std::min_element(candidates_.begin(), candidates_.end(), [&](std::uint64_t a, std::uint64_t b) {
      return Key{balance_[b], b} > Key{balance_[a], a};
    });
    const Key lk{balance_[*lowest], *lowest};
    if (!has_threshold_ || lk > threshold_) threshold_ = lk;
    has_threshold_ = true;
    member_[*lowest] = 0;
    *lowest = candidates_.back();
    candidates_.pop_back();
  }
  candidates_.push_back(account);
  member_[account] = 1;
}

void TopAccounts::RemoveCandidate(std::uint64_t account) {
  if (!member_[account]) return;
  member_[account] = 0;
  auto it = std::find(candidates_.begin(), candidates_.end(), account);
  *it = candidates_.back();
  candidates_.pop_back();
  dirty_ = true;
}

const char* TopAccounts::Apply(const codecs::DecodedEvent& e) {
  const std::uint64_t id = e.stream_id();
  switch (e.event_type()) {
    case EventTraits<rill::bank::Deposited>::kTypeId:
      if (const auto* d = e.As<rill::bank::Deposited>()) return Change(id, d->amount());
      return nullptr;
    case EventTraits<rill::bank::Withdrawn>::kTypeId:
      if (const auto* w = e.As<rill::bank::Withdrawn>()) return Change(id, -w->amount());
      return nullptr;
    case EventTraits<rill::bank::TransferSent>::kTypeId:
      if (const auto* t = e.As<rill::bank::TransferSent>()) return Change(id, -t->amount());
      return nullptr;
    case EventTraits<rill::bank::TransferReceived>::kTypeId:
      if (const auto* t = e.As<rill::bank::TransferReceived>()) return Change(id, t->amount());
      return nullptr;
    case EventTraits<rill::bank::AccountOpened>::kTypeId:
      if (e.As<rill::bank::AccountOpened>() == nullptr) return nullptr;
      if (id >= (std::uint64_t{1} << 32)) return "bank.top_accounts: account id beyond 2^32";
      if (id >= state_.size()) {
        const std::size_t n = std::max<std::size_t>(id + 1, 2 * state_.size());  // growth by doubling
        state_.resize(n, kAbsent);
        balance_.resize(n, 0);
        member_.resize(n, 0);
      }
      if (state_[id] != kAbsent) return "bank.top_accounts: account opened twice";
      state_[id] = kOpen;
      Touch(id);
      return nullptr;
    case EventTraits<rill::bank::AccountClosed>::kTypeId:
      if (e.As<rill::bank::AccountClosed>() == nullptr) return nullptr;
      if (id >= state_.size() || state_[id] != kOpen) return "bank.top_accounts: closing an account that is not open";
      state_[id] = kClosed;
      RemoveCandidate(id);  // a closed account ranks below everything: the invariant holds
      return nullptr;
    default:
      return nullptr;
  }
}

void TopAccounts::Rescan() {
  ++rescans_;
  for (std::uint64_t a : candidates_) member_[a] = 0;
  candidates_.clear();
  std::vector<Key>& keys = scratch_;
  keys.clear();
  for (std::uint64_t a = 0; a < state_.size(); ++a)
    if (state_[a] == kOpen) keys.push_back(Key{balance_[a], a});
  const std::size_t take = std::min(keys.size(), capacity_);
  std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(take), keys.end(),
                   [](const Key& x, const Key& y) { return x > y; });
  for (std::size_t i = 0; i < take; ++i) {
    candidates_.push_back(keys[i].account);
    member_[keys[i].account] = 1;
  }
  has_threshold_ = keys.size() > take;
  if (has_threshold_)
    threshold_ = *std::max_element(keys.begin() + static_cast<std::ptrdiff_t>(take), keys.end(),
                                   [](const Key& x, const Key& y) { return y > x; });
}

std::size_t TopAccounts::Rank() {
  std::size_t n = 0;
  for (std::uint64_t a : candidates_) ranked_[n++] = Key{balance_[a], a};
  std::sort(ranked_.begin(), ranked_.begin() + static_cast<std::ptrdiff_t>(n),
            [](const Key& x, const Key& y) { return x > y; });
  return n;
}

void TopAccounts::EndBatch(std::uint64_t) {
  if (!dirty_) return;
  dirty_ = false;
  std::size_t n = Rank();
  std::size_t above = n;
  if (has_threshold_) {
    above = 0;
    while (above < n && ranked_[above] > threshold_) ++above;
  }
  // With outsiders (a threshold), the list is exact only if n_ candidates rank above them all.
  if (has_threshold_ && above < n_) {
    Rescan();
    n = Rank();
  }
  TopList t;
  t.count = std::min(n_, n);
  for (std::size_t i = 0; i < t.count; ++i) t.entries[i] = TopEntry{ranked_[i].account, ranked_[i].balance};
  published_.Store(t);
}

// Payload: n, account count, then (state, balance) per account id.
void TopAccounts::Save(std::vector<std::byte>& out) const {
  out.clear();
  PutU64(out, n_);
  PutU64(out, state_.size());
  for (std::size_t a = 0; a < state_.size(); ++a) {
    PutU64(out, state_[a]);
    PutU64(out, static_cast<std::uint64_t>(balance_[a]));
  }
}

Status TopAccounts::Load(std::span<const std::byte> in) {
  ByteReader br(in);
  std::uint64_t n = 0, count = 0;
  if (!br.U64(&n) || n != n_) return Status::InvalidArgument("bank.top_accounts checkpoint was written with another n");
  if (!br.U64(&count) || count > (std::uint64_t{1} << 32))
    return Status::Corruption("bank.top_accounts checkpoint: bad account count");
  state_.assign(count, kAbsent);
  balance_.assign(count, 0);
  member_.assign(count, 0);
  for (std::uint64_t a = 0; a < count; ++a) {
    std::uint64_t s = 0, b = 0;
    if (!br.U64(&s) || !br.U64(&b) || s > kClosed) return Status::Corruption("bank.top_accounts checkpoint: truncated");
    state_[a] = static_cast<std::uint8_t>(s);
    balance_[a] = static_cast<std::int64_t>(b);
  }
  Rescan();
  dirty_ = true;
  EndBatch(0);
  return Status::OK();
}

}  // namespace rill::projections::bank
