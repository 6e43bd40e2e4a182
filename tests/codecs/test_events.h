// Test-only events (three versions of PriceChanged) and helpers shared by the codecs tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "rill/codecs/envelope.h"
#include "rill/codecs/test/price_v1_generated.h"
#include "rill/codecs/test/price_v2_generated.h"
#include "rill/codecs/test/price_v3_generated.h"

namespace rill::test {
inline constexpr std::uint16_t kTestDomain = 0x7E57;
inline constexpr std::uint32_t kPriceChangedId = codecs::MakeEventTypeId(kTestDomain, 1);
}  // namespace rill::test

RILL_EVENT_TYPE(rill::test::v1::PriceChanged, rill::test::kPriceChangedId, 1, "test.PriceChanged");
RILL_EVENT_TYPE(rill::test::v2::PriceChanged, rill::test::kPriceChangedId, 2, "test.PriceChanged");
RILL_EVENT_TYPE(rill::test::v3::PriceChanged, rill::test::kPriceChangedId, 3, "test.PriceChanged");

namespace rill::codecs::embedded {
std::span<const std::uint8_t> price_v1_bfbs();
std::span<const std::uint8_t> price_v2_bfbs();
std::span<const std::uint8_t> price_v3_bfbs();
}  // namespace rill::codecs::embedded

namespace rill::test {

// A copy of a record at an 8-byte aligned address, the way a journal frame holds it.
class AlignedRecord {
 public:
  explicit AlignedRecord(std::span<const std::uint8_t> bytes)
      : words_((bytes.size() + 7) / 8 + 1), size_(bytes.size()) {
    if (!bytes.empty()) std::memcpy(words_.data(), bytes.data(), bytes.size());
  }
  std::span<const std::uint8_t> span() const { return {reinterpret_cast<const std::uint8_t*>(words_.data()), size_}; }
  std::uint8_t* data() { return reinterpret_cast<std::uint8_t*>(words_.data()); }
  std::size_t size() const { return size_; }

 private:
  std::vector<std::uint64_t> words_;
  std::size_t size_;
};

}  // namespace rill::test
