// The domain API: the concept accepts the reference domains and refuses each kind of mistake
// (checked at compile time), decisions stay within their inline capacity, rejections format
// without allocating.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "rill/engine/decision.h"
#include "rill/engine/domain.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/blog/blog_domain.h"

namespace {
using namespace rill::engine;

// A minimal valid domain; each Bad* below breaks one rule.
struct Good {
  using Command = std::uint64_t;
  using Event = std::int64_t;
  using State = std::int64_t;
  static constexpr std::size_t kMaxStreams = 1;
  static constexpr std::size_t kMaxEvents = 1;
  static StreamList<1> Streams(const Command& c) { return {c}; }
  static Decision<Event, 1> Decide(const Command&, std::span<const AggregateView<State>>, const DecideContext&) {
    return {};
  }
  static void Evolve(State&, const Event&) {}
  static std::uint64_t Fingerprint(const Command& c) { return FingerprintOf(c); }
  static std::span<const std::uint8_t> Encode(rill::codecs::Encoder&, const rill::codecs::EnvelopeFields&,
                                              const Event&) {
    return {};
  }
  static std::optional<Event> FromDecoded(const rill::codecs::DecodedEvent&) { return std::nullopt; }
};

struct BadCommandHasString : Good {
  using Command = std::string;  // not trivially copyable: cannot travel in a ring slot
};
struct BadNoEvolve {
  using Command = std::uint64_t;
  using Event = std::int64_t;
  using State = std::int64_t;
  static constexpr std::size_t kMaxStreams = 1;
  static constexpr std::size_t kMaxEvents = 1;
  static StreamList<1> Streams(const Command& c) { return {c}; }
  static Decision<Event, 1> Decide(const Command&, std::span<const AggregateView<State>>, const DecideContext&) {
    return {};
  }
  static std::uint64_t Fingerprint(const Command& c) { return FingerprintOf(c); }
};
struct BadDecideTakesMutableState : Good {
  static Decision<Event, 1> Decide(const Command&, std::span<AggregateView<State>>, DecideContext&) { return {}; }
};
struct BadDecideWrongCapacity : Good {
  static Decision<Event, 2> Decide(const Command&, std::span<const AggregateView<State>>, const DecideContext&) {
    return {};
  }
};
// A command the engine cannot take apart field by field (private fields), with no Fingerprint.
class Opaque {
 public:
  explicit Opaque(std::uint64_t v = 0) : v_(v) {}

 private:
  std::uint64_t v_;
};
struct BadNoFingerprint {
  using Command = Opaque;
  using Event = std::int64_t;
  using State = std::int64_t;
  static constexpr std::size_t kMaxStreams = 1;
  static constexpr std::size_t kMaxEvents = 1;
};

static_assert(Domain<Good>);
static_assert(Domain<rill::examples::bank::BankDomain>);
static_assert(Domain<rill::examples::blog::BlogDomain>);
static_assert(!Domain<BadCommandHasString>);
static_assert(!Domain<BadNoEvolve>);
static_assert(!Domain<BadDecideTakesMutableState>);
static_assert(!Domain<BadDecideWrongCapacity>);
static_assert(!Domain<BadNoFingerprint>);
static_assert(!DomainValueTypes<BadCommandHasString>);
static_assert(!DomainEvolve<BadNoEvolve>);
static_assert(!DomainFingerprint<BadNoFingerprint>);
static_assert(CheckDomain<Good>());
// static_assert(CheckDomain<BadCommandHasString>()) fails to compile with: "Domain::Command
// must be trivially copyable: it is copied into a ring slot. Hold variable-size fields as
// rill::engine::BytesRef, not std::string or std::vector".
}  // namespace

TEST_CASE("decision: emitting beyond kMaxEvents turns into an internal-error rejection", "[writer][domain]") {
#ifdef NDEBUG
  Decision<int, 2> d;
  d.Emit(1, 10);
  d.Emit(2, 20);
  d.Emit(3, 30);
  REQUIRE_FALSE(d.accepted());
  CHECK(d.rejection().code == RejectCode::kInternalError);
#else
  SUCCEED("debug builds assert instead, so the domain bug is found at once");
#endif
}

TEST_CASE("decision: events keep their streams and order", "[writer][domain]") {
  Decision<int, 3> d;
  d.Emit(5, 1);
  d.Emit(6, 2);
  REQUIRE(d.accepted());
  REQUIRE(d.events().size() == 2);
  CHECK(d.events()[0].stream_id == 5);
  CHECK(d.events()[1].event == 2);
  const auto r = Decision<int, 3>::Reject(RejectCode::kNotFound, 4, "post %d is gone", 12);
  REQUIRE_FALSE(r.accepted());
  CHECK(r.rejection().message() == "post 12 is gone");
  CHECK(r.rejection().domain_code == 4);
}

TEST_CASE("rejection: a long message is truncated to the fixed buffer", "[writer][domain]") {
  const std::string long_text(500, 'x');
  const Rejection r(RejectCode::kRuleViolated, 0, long_text);
  CHECK(r.message().size() == Rejection::kMessageCapacity - 1);
  const Rejection f = Rejection::Format(RejectCode::kRuleViolated, 0, "%s", long_text.c_str());
  CHECK(f.message().size() == Rejection::kMessageCapacity - 1);
  CHECK(std::string_view(RejectCodeName(RejectCode::kConcurrencyConflict)) == "concurrency conflict");
}

TEST_CASE("stream list keeps the primary stream first", "[writer][domain]") {
  const StreamList<2> s{9, 3};
  REQUIRE(s.count == 2);
  CHECK(s.view()[0] == 9);
  CHECK(s.view()[1] == 3);
}
