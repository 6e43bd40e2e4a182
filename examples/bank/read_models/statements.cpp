#include "rill/examples/bank/read_models/statements.h"

#include <algorithm>

#include "rill/examples/bank/bank_domain.h"
#include "rill/projections/read_model.h"

namespace rill::projections::bank {

using codecs::EventTraits;

std::size_t Statements::Recent(std::uint64_t account, std::span<Movement> out) const noexcept {
  const Record* r = accounts_.Find(account);
  if (r == nullptr) return 0;
  std::size_t n = 0;
  r->cell.ReadWith([&](const auto& c) {  // the count, then only the slots asked for
    const std::uint64_t count = c.LoadWord(0);
    n = static_cast<std::size_t>(std::min<std::uint64_t>({count, kStatementDepth, out.size()}));
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t s = kHeaderWords + ((count - 1 - i) % kStatementDepth) * kSlotWords;
      const std::uint64_t p = c.LoadWord(s);
      out[i] = Movement{p & ((std::uint64_t{1} << 56) - 1),           static_cast<std::int64_t>(c.LoadWord(s + 1)),
                        static_cast<std::int64_t>(c.LoadWord(s + 2)), c.LoadWord(s + 3),
                        static_cast<std::int64_t>(c.LoadWord(s + 4)), static_cast<MovementKind>(p >> 56)};
    }
  });
  return n;
}

std::uint64_t Statements::MovementCount(std::uint64_t account) const noexcept {
  const Record* r = accounts_.Find(account);
  if (r == nullptr) return 0;
  std::uint64_t count = 0;
  r->cell.ReadWith([&](const auto& c) { count = c.LoadWord(0); });
  return count;
}

const char* Statements::Add(const codecs::DecodedEvent& e, MovementKind kind, std::int64_t amount,
                            std::uint64_t counterparty) {
  Record* r = accounts_.FindMutable(e.stream_id());
  if (r == nullptr || r->cell.OwnWord(2) != 1) return "bank.statements: money moved on an account that is not open";
  const std::uint64_t count = r->cell.OwnWord(0);
  const std::uint64_t balance = r->cell.OwnWord(1) + static_cast<std::uint64_t>(amount);
  const std::size_t base = kHeaderWords + (count % kStatementDepth) * kSlotWords;
  r->cell.BeginWrite();
  r->cell.WriteWord(0, count + 1);
  r->cell.WriteWord(1, balance);
  r->cell.WriteWord(base + 0, e.position() | (std::uint64_t{static_cast<std::uint8_t>(kind)} << 56));
  r->cell.WriteWord(base + 1, static_cast<std::uint64_t>(e.timestamp_ns()));
  r->cell.WriteWord(base + 2, static_cast<std::uint64_t>(amount));
  r->cell.WriteWord(base + 3, counterparty);
  r->cell.WriteWord(base + 4, balance);
  r->cell.EndWrite();
  return nullptr;
}

const char* Statements::Apply(const codecs::DecodedEvent& e) {
  switch (e.event_type()) {
    case EventTraits<rill::bank::Deposited>::kTypeId:
      if (const auto* d = e.As<rill::bank::Deposited>()) return Add(e, MovementKind::kDeposit, d->amount(), 0);
      return nullptr;
    case EventTraits<rill::bank::Withdrawn>::kTypeId:
      if (const auto* w = e.As<rill::bank::Withdrawn>()) return Add(e, MovementKind::kWithdrawal, -w->amount(), 0);
      return nullptr;
    case EventTraits<rill::bank::TransferSent>::kTypeId:
      if (const auto* t = e.As<rill::bank::TransferSent>())
        return Add(e, MovementKind::kTransferOut, -t->amount(), t->to_account());
      return nullptr;
    case EventTraits<rill::bank::TransferReceived>::kTypeId:
      if (const auto* t = e.As<rill::bank::TransferReceived>())
        return Add(e, MovementKind::kTransferIn, t->amount(), t->from_account());
      return nullptr;
    case EventTraits<rill::bank::AccountOpened>::kTypeId: {
      if (e.As<rill::bank::AccountOpened>() == nullptr) return nullptr;
      Record* r = accounts_.GetOrCreate(e.stream_id());
      if (r == nullptr) return "bank.statements: account id beyond StatementsOptions::max_accounts";
      if (r->cell.OwnWord(2) != 0) return "bank.statements: account opened twice";
      r->cell.BeginWrite();
      r->cell.WriteWord(2, 1);
      r->cell.EndWrite();
      return nullptr;
    }
    case EventTraits<rill::bank::AccountClosed>::kTypeId: {
      if (e.As<rill::bank::AccountClosed>() == nullptr) return nullptr;
      Record* r = accounts_.FindMutable(e.stream_id());
      if (r == nullptr || r->cell.OwnWord(2) != 1) return "bank.statements: closing an account that is not open";
      r->cell.BeginWrite();
      r->cell.WriteWord(2, 2);  // closed: the statement stays readable
      r->cell.EndWrite();
      return nullptr;
    }
    default:
      return nullptr;
  }
}

// Payload: max_accounts, then per allocated chunk: first id and every record's words.
void Statements::Save(std::vector<std::byte>& out) const {
  out.clear();
  PutU64(out, accounts_.max_ids());
  accounts_.ForEachChunk([&](std::uint64_t first, const auto& chunk) {
    PutU64(out, first);
    for (const Record& r : chunk.records)
      for (std::size_t i = 0; i < kWords; ++i) PutU64(out, r.cell.OwnWord(i));
  });
}

Status Statements::Load(std::span<const std::byte> in) {
  ByteReader br(in);
  std::uint64_t max_ids = 0;
  if (!br.U64(&max_ids) || max_ids != accounts_.max_ids())
    return Status::InvalidArgument("bank.statements checkpoint was written with another max_accounts");
  std::uint64_t first = 0;
  while (!br.done()) {
    if (!br.U64(&first) || first >= max_ids) return Status::Corruption("bank.statements checkpoint: bad chunk id");
    for (std::size_t k = 0; k < decltype(accounts_)::kChunkSize; ++k) {
      Record* r = accounts_.GetOrCreate(first + k);
      if (r == nullptr) return Status::Corruption("bank.statements checkpoint: id beyond max_accounts");
      r->cell.BeginWrite();
      for (std::size_t i = 0; i < kWords; ++i) {
        std::uint64_t v = 0;
        if (!br.U64(&v)) {
          r->cell.EndWrite();
          return Status::Corruption("bank.statements checkpoint: truncated chunk");
        }
        r->cell.WriteWord(i, v);
      }
      r->cell.EndWrite();
    }
  }
  return Status::OK();
}

}  // namespace rill::projections::bank
