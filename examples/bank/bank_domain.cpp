// The bank domain's replay path: a decoded record -> the domain's event. Everything on the
// writer's hot path (decide, evolve, encode) is inline in the header.
#include "rill/examples/bank/bank_domain.h"

namespace rill::examples::bank {

std::optional<Event> BankDomain::FromDecoded(const codecs::DecodedEvent& d) noexcept {
  if (const auto* e = d.As<fb::AccountOpened>()) return AccountOpened{e->owner_id(), e->currency()};
  if (const auto* e = d.As<fb::Deposited>()) return Deposited{e->amount()};
  if (const auto* e = d.As<fb::Withdrawn>()) return Withdrawn{e->amount()};
  if (const auto* e = d.As<fb::TransferSent>()) return TransferSent{e->to_account(), e->amount()};
  if (const auto* e = d.As<fb::TransferReceived>()) return TransferReceived{e->from_account(), e->amount()};
  if (const auto* e = d.As<fb::AccountClosed>()) return AccountClosed{e->reason()};
  return std::nullopt;
}

}  // namespace rill::examples::bank
