// rill/engine/domain.h: what an application gives the engine: its commands, events, aggregate
// state and two pure functions in the decider style. The engine does the rest (ordering,
// versions, idempotency, journaling, replay).
//
//   // bank.fbs declares the events; rill_add_domain(bank ...) generates bank_events.h with the
//   // event structs and struct BankEvents { using Event; RegisterEvents; Encode; FromDecoded; }.
//   #include "bank_events.h"
//   struct BankDomain : BankEvents {
//     using Command = std::variant<OpenAccount, Deposit, Withdraw, Transfer, CloseAccount>;
//     using State = Account;                                  // one aggregate's state
//     static constexpr std::size_t kMaxStreams = 2;           // a transfer touches two accounts
//     static constexpr std::size_t kMaxEvents = 2;
//     using Decision = rill::engine::Decision<Event, kMaxEvents>;
//
//     static rill::engine::StreamList<kMaxStreams> Streams(const Command&);  // first = primary
//     static Decision Decide(const Command&, std::span<const AggregateView<State>>, const DecideContext&);
//     static void Evolve(State&, const Event&);               // also what replay calls
//     // optional: static std::uint64_t Fingerprint(const Command&); default: DefaultFingerprint, by fields
//     // optional, stateless checks run first (field sizes): kInvalidCommand
//     static std::optional<Rejection> Validate(const Command&);
//   };
//   // From BankEvents (or written by hand without the generator): using Event = std::variant<...>;
//   //   static void RegisterEvents(codecs::SchemaRegistryBuilder&);   // the engine's registry
//   //   static std::span<const std::uint8_t> Encode(codecs::Encoder&, const codecs::EnvelopeFields&, const Event&);
//   //   static std::optional<Event> FromDecoded(const codecs::DecodedEvent&);   // replay
//   static_assert(rill::engine::CheckDomain<BankDomain>());   // readable errors, one per rule
//
// Several aggregate kinds (domain_kinds.h, aggregates.h): instead of State,
//   using Aggregates = std::tuple<Sku, Order>;               // each kind: own store, ids, versions
//   // events say their kind: struct OrderShipped { using Aggregate = Order;
//   //                                               static constexpr bool kEndsAggregate = true; };
//   static StreamList<kMaxStreams, StreamRef> Streams(const Command&);  // {Stream<Order>(id), ...}
//   static Decision Decide(const Command&, const Aggregates<Shop>&, const DecideContext&);
//   static void Evolve(Order&, const OrderPlaced&);          // one overload per event
// A single-kind domain may use those forms as well (Aggregates<D>, per-event Evolve).
//
// Rules, and why:
// - Command, Event and State are trivially copyable: a command is copied into a ring slot, a
//   decision's events into an inline array, states live in a dense array that a snapshot can
//   copy. Variable-size fields are BytesRef (engine/bytes_ref.h) into caller-owned memory.
// - Decide and Evolve are pure: the timestamp and command id come from DecideContext, so a
//   replay of the journal reproduces the state exactly. Decide sees aggregates read-only;
//   only Evolve changes state, one event at a time.
// - The expected stream version (CommandMeta) is checked by the engine against the primary
//   stream, before Decide; Decide never sees a conflicting command.
// Thread safety: none needed; a domain has no state of its own.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/engine/aggregates.h"
#include "rill/engine/bytes_ref.h"
#include "rill/engine/command_outcome.h"
#include "rill/engine/decision.h"
#include "rill/engine/domain_kinds.h"
#include "rill/engine/fingerprint.h"

namespace rill::engine {

// What the engine knows about a command besides its payload. Travels with it in the ring slot.
struct CommandMeta {
  // The idempotency key, chosen by the client and unique per intended effect (a retry reuses
  // it). Recorded in every event's envelope. 0 = no key: the command is never deduplicated.
  std::uint64_t command_id = 0;
  // kAnyVersion: no check. kNoStream: the primary stream must not exist yet. Otherwise the
  // primary stream's version must equal it, or the command is rejected with
  // kConcurrencyConflict and Rejection::actual_version.
  std::uint64_t expected_version = kAnyVersion;
};

// One requirement per concept, so a compiler names the one a domain misses.
template <typename D>
concept DomainTypes = requires {
  typename D::Command;
  typename D::Event;
  { D::kMaxStreams } -> std::convertible_to<std::size_t>;
  { D::kMaxEvents } -> std::convertible_to<std::size_t>;
}
&&(HasStateType<D> || HasAggregatesType<D>);

namespace domain_internal {
template <typename D>
constexpr bool KindsValueTypes() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    return ((std::is_trivially_copyable_v<KindAt<D, I>> && std::is_default_constructible_v<KindAt<D, I>>)&&...);
  }
  (std::make_index_sequence<kKindCount<D>>{});
}
}  // namespace domain_internal

template <typename D>
concept DomainValueTypes = std::is_trivially_copyable_v<typename D::Command> &&
                           std::is_trivially_copyable_v<typename D::Event> && domain_internal::KindsValueTypes<D>() &&
                           (D::kMaxStreams >= 1) &&
                           (D::kMaxEvents >= 1);

template <typename D>
concept DomainStreams = StreamsById<D> || StreamsByRef<D>;

template <typename D>
concept DomainDecide = DecidesWithSpan<D> || DecidesWithAggregates<D>;

template <typename D>
concept DomainEvolve = EvolvesWholeEvent<D> || EvolvesPerEvent<D>;

// Optional: a domain without Fingerprint gets DefaultFingerprint (fingerprint.h), by fields.
template <typename D>
concept HasFingerprint = requires(const typename D::Command& c) {
  { D::Fingerprint(c) } -> std::same_as<std::uint64_t>;
};
template <typename D>
concept DomainFingerprint = HasFingerprint<D> || DefaultFingerprintable<typename D::Command>();

template <typename D>
concept DomainCodec = requires(codecs::Encoder& enc, const codecs::EnvelopeFields& env, const typename D::Event& e,
                               const codecs::DecodedEvent& decoded) {
  { D::Encode(enc, env, e) } -> std::same_as<std::span<const std::uint8_t>>;
  { D::FromDecoded(decoded) } -> std::same_as<std::optional<typename D::Event>>;
};

template <typename D>
concept HasValidate = requires(const typename D::Command& c) {
  { D::Validate(c) } -> std::same_as<std::optional<Rejection>>;
};

template <typename D>
concept Domain = DomainTypes<D> && DomainValueTypes<D> && DomainStreams<D> && DomainDecide<D> && DomainEvolve<D> &&
    DomainFingerprint<D> && DomainCodec<D>;

// static_assert(CheckDomain<D>()) reports the first rule D breaks, in words.
template <typename D>
consteval bool CheckDomain() {
  if constexpr (!DomainTypes<D>) {
    static_assert(DomainTypes<D>,
                  "a domain declares types Command, Event, State (or Aggregates, a std::tuple of kinds) and "
                  "constants kMaxStreams, kMaxEvents");
    return false;
  } else if constexpr (!CheckKinds<D>()) {
    return false;
  } else if constexpr (!std::is_trivially_copyable_v<typename D::Command>) {
    static_assert(std::is_trivially_copyable_v<typename D::Command>,
                  "Domain::Command must be trivially copyable: it is copied into a ring slot. Hold variable-size "
                  "fields as rill::engine::BytesRef, not std::string or std::vector");
    return false;
  } else if constexpr (!std::is_trivially_copyable_v<typename D::Event>) {
    static_assert(std::is_trivially_copyable_v<typename D::Event>,
                  "Domain::Event must be trivially copyable: decisions hold events in an inline array. Hold "
                  "text as rill::engine::BytesRef into the command (or the decoded record, in replay)");
    return false;
  } else if constexpr (!domain_internal::KindsValueTypes<D>()) {
    static_assert(domain_internal::KindsValueTypes<D>(),
                  "Domain::State (each kind of Domain::Aggregates) must be default-constructible (a new aggregate) "
                  "and trivially copyable (dense arrays, snapshots): keep only what decisions need, no strings or "
                  "containers");
    return false;
  } else if constexpr (!(D::kMaxStreams >= 1 && D::kMaxEvents >= 1)) {
    static_assert(D::kMaxStreams >= 1 && D::kMaxEvents >= 1, "kMaxStreams and kMaxEvents must be at least 1");
    return false;
  } else if constexpr (!DomainStreams<D>) {
    static_assert(DomainStreams<D>,
                  "missing: static rill::engine::StreamList<kMaxStreams> Streams(const Command&), the aggregates "
                  "a command touches, primary stream first (with several aggregate kinds: "
                  "rill::engine::StreamList<kMaxStreams, rill::engine::StreamRef> of rill::engine::Stream<Kind>(id))");
    return false;
  } else if constexpr (!DomainDecide<D>) {
    static_assert(DomainDecide<D>,
                  "missing: static rill::engine::Decision<Event, kMaxEvents> Decide(const Command&, "
                  "const rill::engine::Aggregates<Domain>&, const rill::engine::DecideContext&) (one kind may also "
                  "take std::span<const rill::engine::AggregateView<State>>)");
    return false;
  } else if constexpr (!DomainEvolve<D>) {
    static_assert(DomainEvolve<D>,
                  "missing: static void Evolve(Kind&, const E&) for every event E (Kind = E::Aggregate), or, with "
                  "one kind, static void Evolve(State&, const Event&)");
    return false;
  } else if constexpr (!DomainFingerprint<D>) {
    static_assert(DomainFingerprint<D>,
                  "the engine cannot fingerprint this Command field by field: give the domain static "
                  "std::uint64_t Fingerprint(const Command&) (rill::engine::FingerprintOf over the command's "
                  "fields; never hash object bytes)");
    return false;
  } else if constexpr (!DomainCodec<D>) {
    static_assert(DomainCodec<D>,
                  "missing: static std::span<const std::uint8_t> Encode(rill::codecs::Encoder&, const "
                  "rill::codecs::EnvelopeFields&, const Event&) and static std::optional<Event> "
                  "FromDecoded(const rill::codecs::DecodedEvent&)");
    return false;
  } else {
    return true;
  }
}

}  // namespace rill::engine
