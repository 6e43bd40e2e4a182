// rill/engine/decision.h: what a domain's decide() sees and returns. It sees the aggregates the
// command touches (AggregateView: id, version, state or nullptr) and a DecideContext (the
// engine's timestamp and the command id, so decide is deterministic); it returns a Decision:
// up to kMaxEvents events, each tagged with its stream, or a Rejection.
//
//   static Decision Decide(const Command& cmd, std::span<const AggregateView<Account>> aggs,
//                          const DecideContext& ctx) {
//     const Transfer& t = std::get<Transfer>(cmd);          // aggs[i] is Streams(cmd).ids[i]
//     if (aggs[0].state == nullptr) return Decision::Reject({RejectCode::kNotFound, 0, "no source"});
//     Decision d;
//     d.Emit(t.from, TransferSent{t.to, t.amount});          // both events, or none
//     d.Emit(t.to, TransferReceived{t.from, t.amount});
//     return d;
//   }
//
// Nothing here allocates: events sit in an inline array. Thread safety: plain values.
#pragma once

#include <array>
#include <cassert>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <span>

#include "rill/engine/command_outcome.h"
#include "rill/engine/domain_kinds.h"

namespace rill::engine {

// The stream version of an aggregate with no events: it does not exist (yet).
inline constexpr std::uint64_t kNoStream = 0;
// "Do not check the version" (the default expected version).
inline constexpr std::uint64_t kAnyVersion = ~std::uint64_t{0};

// The streams a command touches, in the order decide() receives them. The first is the
// command's primary stream: the expected version is checked against it. A single-kind domain
// lists plain ids (StreamList<kMax>); a domain with several kinds lists StreamRefs
// (StreamList<kMax, StreamRef>, each made with Stream<Order>(id), domain_kinds.h).
template <std::size_t kMax, typename Ref = std::uint64_t>
struct StreamList {
  std::array<Ref, kMax> ids{};
  std::uint8_t count = 0;

  constexpr StreamList() noexcept = default;
  constexpr StreamList(std::initializer_list<Ref> list) noexcept {
    assert(list.size() <= kMax && "a command touches more streams than Domain::kMaxStreams");
    for (const Ref& id : list) {
      if (count == kMax) break;
      ids[count++] = id;
    }
  }
  // Adds one more stream (Streams() that build the list in steps). Beyond kMax: ignored, and
  // an assert in debug builds.
  constexpr void Add(const Ref& ref) noexcept {
    assert(count < kMax && "a command touches more streams than Domain::kMaxStreams");
    if (count < kMax) ids[count++] = ref;
  }
  constexpr std::span<const Ref> view() const noexcept { return {ids.data(), count}; }
};

// Read-only access to one aggregate for decide(). state is nullptr when the stream has no
// events yet (version == kNoStream); a pointer into the aggregate store, valid during decide.
template <typename State>
struct AggregateView {
  std::uint64_t id = 0;
  std::uint64_t version = kNoStream;
  const State* state = nullptr;

  bool exists() const noexcept { return state != nullptr; }
};

// One listed stream of a multi-kind domain, before its kind is named: aggs[i].As<Order>().
struct StreamView {
  const void* kind = nullptr;  // as StreamRef::kind
  std::uint64_t id = 0;
  std::uint64_t version = kNoStream;
  const void* state = nullptr;

  bool exists() const noexcept { return state != nullptr; }
  template <typename K>
  bool Is() const noexcept {
    return kind == KindTagOf<K>();
  }
  // REQUIRES: Is<K>() (the stream was listed as Stream<K>(id)); asserted in debug builds.
  template <typename K>
  AggregateView<K> As() const noexcept {
    assert(Is<K>() && "StreamView::As<K>(): this stream was listed with another kind");
    return AggregateView<K>{id, version, static_cast<const K*>(state)};
  }
};

// What the engine provides so that decide needs no clock and no globals.
struct DecideContext {
  std::int64_t timestamp_ns = 0;  // recorded in every event's envelope
  std::uint64_t command_id = 0;
};

template <typename Event>
struct StreamEvent {
  std::uint64_t stream_id = 0;
  Event event{};
};

template <typename Event, std::size_t kMaxEvents>
class Decision {
  static_assert(kMaxEvents > 0 && kMaxEvents <= 255, "Domain::kMaxEvents must be between 1 and 255");

 public:
  // Accepted, no events yet: Emit adds them.
  Decision() noexcept = default;
  static Decision Reject(const Rejection& r) noexcept {
    Decision d;
    d.rejection_ = r;
    return d;
  }
  [[gnu::format(printf, 3, 4)]] static Decision Reject(RejectCode code, std::uint32_t domain_code, const char* fmt,
                                                       ...) noexcept;

  // Records `event` on `stream_id`. Emitting more than kMaxEvents is a domain bug: the decision
  // turns into a kInternalError rejection (and asserts in debug builds) instead of overflowing.
  void Emit(std::uint64_t stream_id, const Event& event) noexcept {
    if (rejection_) return;
    if (count_ == kMaxEvents) [[unlikely]] {
      assert(false && "decide emitted more than Domain::kMaxEvents events: raise kMaxEvents");
      rejection_ = Rejection(RejectCode::kInternalError, 0, "decide emitted more than Domain::kMaxEvents events");
      return;
    }
    // Member by member, not through a StreamEvent temporary: GCC 12 at -O3 warns that an empty
    // event struct's (padding-only) temporary "may be used uninitialized".
    StreamEvent<Event>& slot = events_[count_++];
    slot.stream_id = stream_id;
    slot.event = event;
  }

  bool accepted() const noexcept { return !rejection_.has_value(); }
  // REQUIRES: accepted().
  std::span<const StreamEvent<Event>> events() const noexcept { return {events_.data(), count_}; }
  // REQUIRES: !accepted().
  const Rejection& rejection() const noexcept { return *rejection_; }

 private:
  std::array<StreamEvent<Event>, kMaxEvents> events_{};
  std::uint8_t count_ = 0;
  std::optional<Rejection> rejection_;
};

template <typename Event, std::size_t kMaxEvents>
Decision<Event, kMaxEvents> Decision<Event, kMaxEvents>::Reject(RejectCode code, std::uint32_t domain_code,
                                                                const char* fmt, ...) noexcept {
  va_list args;
  va_start(args, fmt);
  char buf[Rejection::kMessageCapacity];
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return Reject(Rejection(code, domain_code, buf));
}

}  // namespace rill::engine
