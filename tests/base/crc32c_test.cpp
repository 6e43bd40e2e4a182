#include "rill/base/crc32c.h"

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using rill::crc32c::Extend;
using rill::crc32c::ExtendHardware;
using rill::crc32c::ExtendPortable;
using rill::crc32c::Value;

// RFC 3720, appendix B.4: CRC-32C test vectors.
struct Vector {
  const char* name;
  std::vector<unsigned char> data;
  std::uint32_t crc;
};

std::vector<Vector> Rfc3720Vectors() {
  std::vector<Vector> v;
  v.push_back({"32 bytes of zeroes", std::vector<unsigned char>(32, 0x00), 0x8a9136aau});
  v.push_back({"32 bytes of ones", std::vector<unsigned char>(32, 0xff), 0x62a8ab43u});
  std::vector<unsigned char> inc(32), dec(32);
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<unsigned char>(i);
    dec[i] = static_cast<unsigned char>(31 - i);
  }
  v.push_back({"32 incrementing bytes", inc, 0x46dd794eu});
  v.push_back({"32 decrementing bytes", dec, 0x113fdb5cu});
  v.push_back({"an iSCSI read command PDU",
               {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
                0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
               0xd9963a56u});
  return v;
}

}  // namespace

TEST_CASE("crc32c matches the RFC 3720 test vectors", "[base][crc32c]") {
  for (const auto& v : Rfc3720Vectors()) {
    INFO(v.name);
    CHECK(Value(v.data.data(), v.data.size()) == v.crc);
    CHECK(ExtendPortable(0, v.data.data(), v.data.size()) == v.crc);
    if (rill::crc32c::IsHardwareAccelerated()) CHECK(ExtendHardware(0, v.data.data(), v.data.size()) == v.crc);
  }
  CHECK(Value("123456789", 9) == 0xe3069283u);  // the catalogue check value
}

TEST_CASE("crc32c extends: the crc of a concatenation equals the crc extended piece by piece", "[base][crc32c]") {
  const std::string a = "hello ", b = "world";
  const std::string ab = a + b;
  CHECK(Extend(Value(a.data(), a.size()), b.data(), b.size()) == Value(ab.data(), ab.size()));
}

TEST_CASE("crc32c hardware and portable paths agree on random data of every length and alignment", "[base][crc32c]") {
  const auto seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::vector<unsigned char> buf(600);
  for (auto& c : buf) c = static_cast<unsigned char>(rng());
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t len = 0; len + offset <= buf.size(); len += 1 + len / 8) {
      const std::uint32_t portable = ExtendPortable(0, buf.data() + offset, len);
      CHECK(Value(buf.data() + offset, len) == portable);
      if (rill::crc32c::IsHardwareAccelerated()) CHECK(ExtendHardware(0, buf.data() + offset, len) == portable);
    }
  }
}

TEST_CASE("crc32c mask is reversible and changes the value", "[base][crc32c]") {
  const std::uint32_t crc = Value("foo", 3);
  CHECK(rill::crc32c::Mask(crc) != crc);
  CHECK(rill::crc32c::Mask(rill::crc32c::Mask(crc)) != crc);
  CHECK(rill::crc32c::Unmask(rill::crc32c::Mask(crc)) == crc);
  CHECK(rill::crc32c::Unmask(rill::crc32c::Unmask(rill::crc32c::Mask(rill::crc32c::Mask(crc)))) == crc);
}

TEST_CASE("crc32c detects every single-bit flip in a small record", "[base][crc32c]") {
  std::array<unsigned char, 64> rec{};
  for (std::size_t i = 0; i < rec.size(); ++i) rec[i] = static_cast<unsigned char>(i * 7);
  const std::uint32_t good = Value(rec.data(), rec.size());
  for (std::size_t bit = 0; bit < rec.size() * 8; ++bit) {
    rec[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    CHECK(Value(rec.data(), rec.size()) != good);
    rec[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
  }
}
