#include "rill/examples/bank/read_models/balances.h"

#include "rill/examples/bank/bank_domain.h"
#include "rill/projections/read_model.h"

namespace rill::projections::bank {

using codecs::EventTraits;

const char* Balances::Move(const codecs::DecodedEvent& e, std::int64_t delta) {
  Record* r = accounts_.FindMutable(e.stream_id());
  if (r == nullptr || (r->cell.OwnWord(2) & 0xff) != static_cast<std::uint64_t>(AccountState::kOpen))
    return "bank.balances: money moved on an account that is not open";
  r->cell.BeginWrite();
  r->cell.WriteWord(0, r->cell.OwnWord(0) + static_cast<std::uint64_t>(delta));  // wraps like int64 would
  r->cell.WriteWord(1, e.stream_version());
  r->cell.EndWrite();
  return nullptr;
}

const char* Balances::Apply(const codecs::DecodedEvent& e) {
  switch (e.event_type()) {
    case EventTraits<rill::bank::Deposited>::kTypeId:
      if (const auto* d = e.As<rill::bank::Deposited>()) return Move(e, d->amount());
      return nullptr;
    case EventTraits<rill::bank::Withdrawn>::kTypeId:
      if (const auto* w = e.As<rill::bank::Withdrawn>()) return Move(e, -w->amount());
      return nullptr;
    case EventTraits<rill::bank::TransferSent>::kTypeId:
      if (const auto* t = e.As<rill::bank::TransferSent>()) return Move(e, -t->amount());
      return nullptr;
    case EventTraits<rill::bank::TransferReceived>::kTypeId:
      if (const auto* t = e.As<rill::bank::TransferReceived>()) return Move(e, t->amount());
      return nullptr;
    case EventTraits<rill::bank::AccountOpened>::kTypeId: {
      const auto* o = e.As<rill::bank::AccountOpened>();
      if (o == nullptr) return nullptr;
      Record* r = accounts_.GetOrCreate(e.stream_id());
      if (r == nullptr) return "bank.balances: account id beyond BalancesOptions::max_accounts";
      if ((r->cell.OwnWord(2) & 0xff) != 0) return "bank.balances: account opened twice";
      r->cell.BeginWrite();
      r->cell.WriteWord(0, 0);
      r->cell.WriteWord(1, e.stream_version());
      r->cell.WriteWord(2, static_cast<std::uint64_t>(AccountState::kOpen) | (std::uint64_t{o->currency()} << 8));
      r->cell.EndWrite();
      return nullptr;
    }
    case EventTraits<rill::bank::AccountClosed>::kTypeId: {
      if (e.As<rill::bank::AccountClosed>() == nullptr) return nullptr;
      Record* r = accounts_.FindMutable(e.stream_id());
      if (r == nullptr || (r->cell.OwnWord(2) & 0xff) != static_cast<std::uint64_t>(AccountState::kOpen))
        return "bank.balances: closing an account that is not open";
      r->cell.BeginWrite();
      r->cell.WriteWord(1, e.stream_version());
      r->cell.WriteWord(
          2, (r->cell.OwnWord(2) & ~std::uint64_t{0xff}) | static_cast<std::uint64_t>(AccountState::kClosed));
      r->cell.EndWrite();
      return nullptr;
    }
    default:
      return nullptr;  // not a bank event: ignored, the position still advances
  }
}

// Payload: max_accounts, then per allocated chunk: first id, then (balance, version, meta)
// for each of its records.
void Balances::Save(std::vector<std::byte>& out) const {
  out.clear();
  PutU64(out, accounts_.max_ids());
  out.reserve(8 + accounts_.chunks() * (8 + decltype(accounts_)::kChunkSize * 24));
  accounts_.ForEachChunk([&](std::uint64_t first, const auto& chunk) {
    PutU64(out, first);
    for (const Record& r : chunk.records)
      for (std::size_t i = 0; i < 3; ++i) PutU64(out, r.cell.OwnWord(i));
  });
}

Status Balances::Load(std::span<const std::byte> in) {
  ByteReader br(in);
  std::uint64_t max_ids = 0;
  if (!br.U64(&max_ids) || max_ids != accounts_.max_ids())
    return Status::InvalidArgument("bank.balances checkpoint was written with another max_accounts");
  std::uint64_t first = 0;
  while (!br.done()) {
    if (!br.U64(&first) || first >= max_ids) return Status::Corruption("bank.balances checkpoint: bad chunk id");
    for (std::size_t k = 0; k < decltype(accounts_)::kChunkSize; ++k) {
      std::uint64_t w[3];
      if (!br.U64(&w[0]) || !br.U64(&w[1]) || !br.U64(&w[2]))
        return Status::Corruption("bank.balances checkpoint: truncated chunk");
      Record* r = accounts_.GetOrCreate(first + k);
      if (r == nullptr) return Status::Corruption("bank.balances checkpoint: id beyond max_accounts");
      r->cell.BeginWrite();
      for (std::size_t i = 0; i < 3; ++i) r->cell.WriteWord(i, w[i]);
      r->cell.EndWrite();
    }
  }
  return Status::OK();
}

}  // namespace rill::projections::bank
