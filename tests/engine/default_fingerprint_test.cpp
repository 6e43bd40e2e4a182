// DefaultFingerprint: a command's fingerprint from its fields, with no per-field code. Its
// formula is recorded in journals (every event's envelope), so these tests pin it.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <variant>

#include "rill/engine/bytes_ref.h"
#include "rill/engine/fingerprint.h"

namespace {

using rill::engine::BytesRef;
using rill::engine::DefaultFingerprint;
using rill::engine::FingerprintOf;

enum class Reason : std::uint8_t { kA = 1, kB = 2 };
struct Open {
  std::uint64_t account = 0;
  std::uint64_t owner = 0;
  std::uint16_t currency = 0;  // padding after it: never hashed
};
struct Close {
  std::uint64_t account = 0;
  Reason reason = Reason::kA;
};
struct Post {
  std::uint64_t post = 0;
  BytesRef title;
  std::optional<BytesRef> body;
};
struct Point {
  std::int32_t x = 0;
  std::int32_t y = 0;
};
struct Move {
  std::uint64_t id = 0;
  Point to;
  double speed = 0;
  bool urgent = false;
};
using Command = std::variant<Open, Close, Post, Move>;

TEST_CASE("the default fingerprint is FingerprintOf the index and the fields, in order", "[fingerprint]") {
  CHECK(DefaultFingerprint(Command{Open{7, 42, 978}}) == FingerprintOf(std::size_t{0}, 7u, 42u, std::uint16_t{978}));
  CHECK(DefaultFingerprint(Command{Close{7, Reason::kB}}) == FingerprintOf(std::size_t{1}, 7u, Reason::kB));
  const std::string title = "hello";
  rill::engine::Fingerprinter f;
  f.Add(std::size_t{2});
  f.Add(std::uint64_t{9});
  f.Add(BytesRef(title));
  f.Add(std::uint8_t{0});
  CHECK(DefaultFingerprint(Command{Post{9, BytesRef(title), std::nullopt}}) == f.Finish());
}

TEST_CASE("every field changes the default fingerprint", "[fingerprint]") {
  const std::uint64_t base = DefaultFingerprint(Command{Open{7, 42, 978}});
  CHECK(DefaultFingerprint(Command{Open{8, 42, 978}}) != base);
  CHECK(DefaultFingerprint(Command{Open{7, 43, 978}}) != base);
  CHECK(DefaultFingerprint(Command{Open{7, 42, 840}}) != base);
  // The alternative counts: the same field values in another command differ.
  CHECK(DefaultFingerprint(Command{Close{7, Reason::kA}}) != DefaultFingerprint(Command{Open{7, 1, 0}}));
  const std::uint64_t move = DefaultFingerprint(Command{Move{1, {2, 3}, 1.5, false}});
  CHECK(DefaultFingerprint(Command{Move{1, {2, 4}, 1.5, false}}) != move);  // a nested struct's field
  CHECK(DefaultFingerprint(Command{Move{1, {2, 3}, 2.5, false}}) != move);
  CHECK(DefaultFingerprint(Command{Move{1, {2, 3}, 1.5, true}}) != move);
  CHECK(DefaultFingerprint(Command{Move{1, {2, 3}, -0.0, false}}) !=
        DefaultFingerprint(Command{Move{1, {2, 3}, 0.0, false}}));
}

TEST_CASE("text counts by content, not by where it lives", "[fingerprint]") {
  const std::string a = "same words", b = "same words", c = "other words";
  CHECK(DefaultFingerprint(Command{Post{1, BytesRef(a), std::nullopt}}) ==
        DefaultFingerprint(Command{Post{1, BytesRef(b), std::nullopt}}));
  CHECK(DefaultFingerprint(Command{Post{1, BytesRef(a), std::nullopt}}) !=
        DefaultFingerprint(Command{Post{1, BytesRef(c), std::nullopt}}));
  // "no body" differs from "an empty body".
  CHECK(DefaultFingerprint(Command{Post{1, BytesRef(a), std::nullopt}}) !=
        DefaultFingerprint(Command{Post{1, BytesRef(a), BytesRef("")}}));
}

TEST_CASE("padding never reaches the default fingerprint", "[fingerprint]") {
  // Two objects equal field by field but with different bytes in their padding.
  alignas(Open) unsigned char raw1[sizeof(Open)], raw2[sizeof(Open)];
  std::memset(raw1, 0x00, sizeof raw1);
  std::memset(raw2, 0xAB, sizeof raw2);
  Open* o1 = new (raw1) Open;
  Open* o2 = new (raw2) Open;
  o1->account = o2->account = 5;
  o1->owner = o2->owner = 6;
  o1->currency = o2->currency = 7;
  CHECK(DefaultFingerprint(*o1) == DefaultFingerprint(*o2));
}

}  // namespace
