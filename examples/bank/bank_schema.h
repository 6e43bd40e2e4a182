// rill/examples/bank/bank_schema.h: the bank ledger's events (reference domain): generated tables from
// schemas/bank.fbs, their type ids, and registration.
//
//   rill::codecs::SchemaRegistryBuilder b;
//   rill::examples::bank::BankDomain::RegisterEvents(b);
//
// Type ids are domain 0x0001 and the event's number; they are written into every record, so
// a number is never reused, even when its event is retired.
#pragma once

#include <cstdint>
#include <span>

#include "rill/codecs/envelope.h"
#include "rill/examples/bank/bank_generated.h"

namespace rill::bank {
inline constexpr std::uint16_t kDomainId = 0x0001;
}  // namespace rill::bank

RILL_EVENT_TYPE(rill::bank::AccountOpened, rill::codecs::MakeEventTypeId(rill::bank::kDomainId, 1), 1,
                "bank.AccountOpened");
RILL_EVENT_TYPE(rill::bank::Deposited, rill::codecs::MakeEventTypeId(rill::bank::kDomainId, 2), 1, "bank.Deposited");
RILL_EVENT_TYPE(rill::bank::Withdrawn, rill::codecs::MakeEventTypeId(rill::bank::kDomainId, 3), 1, "bank.Withdrawn");
RILL_EVENT_TYPE(rill::bank::TransferSent, rill::codecs::MakeEventTypeId(rill::bank::kDomainId, 4), 1,
                "bank.TransferSent");
RILL_EVENT_TYPE(rill::bank::TransferReceived, rill::codecs::MakeEventTypeId(rill::bank::kDomainId, 5), 1,
                "bank.TransferReceived");
RILL_EVENT_TYPE(rill::bank::AccountClosed, rill::codecs::MakeEventTypeId(rill::bank::kDomainId, 6), 1,
                "bank.AccountClosed");

namespace rill::codecs {
namespace embedded {
std::span<const std::uint8_t> bank_bfbs();  // schemas/bank.fbs compiled by flatc at build time
}  // namespace embedded
}  // namespace rill::codecs
