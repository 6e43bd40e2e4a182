#include "rill/base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace rill::crc32c {
namespace {

constexpr std::uint32_t kPolynomial = 0x82f63b78u;  // Castagnoli, reflected

// Slicing-by-8 tables, built at compile time: table[k][b] is the CRC of byte b followed by
// k zero bytes, so eight table look-ups consume eight input bytes at once.
constexpr std::array<std::array<std::uint32_t, 256>, 8> MakeTables() {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kPolynomial : 0u);
    t[0][b] = crc;
  }
  for (std::size_t k = 1; k < 8; ++k)
    for (std::size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xffu];
  return t;
}
constexpr auto kTables = MakeTables();

inline std::uint64_t LoadLE64(const unsigned char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);  // x86-64 and little-endian ARM only; the journal is little-endian
  return v;
}

using ExtendFn = std::uint32_t (*)(std::uint32_t, const void*, std::size_t) noexcept;

ExtendFn ChooseImplementation() noexcept { return IsHardwareAccelerated() ? &ExtendHardware : &ExtendPortable; }

}  // namespace

std::uint32_t ExtendPortable(std::uint32_t init_crc, const void* data, std::size_t n) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint32_t crc = ~init_crc;
  while (n >= 8) {
    std::uint64_t word = LoadLE64(p) ^ crc;
    crc = kTables[7][word & 0xff] ^ kTables[6][(word >> 8) & 0xff] ^ kTables[5][(word >> 16) & 0xff] ^
          kTables[4][(word >> 24) & 0xff] ^ kTables[3][(word >> 32) & 0xff] ^ kTables[2][(word >> 40) & 0xff] ^
          kTables[1][(word >> 48) & 0xff] ^ kTables[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ kTables[0][(crc ^ *p++) & 0xffu];
  return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t ExtendHardware(std::uint32_t init_crc, const void* data,
                                                               std::size_t n) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t crc = ~init_crc;
  while (n >= 8) {
    crc = _mm_crc32_u64(crc, LoadLE64(p));
    p += 8;
    n -= 8;
  }
  auto crc32 = static_cast<std::uint32_t>(crc);
  while (n-- > 0) crc32 = _mm_crc32_u8(crc32, *p++);
  return ~crc32;
}

bool IsHardwareAccelerated() noexcept {
  static const bool has_sse42 = __builtin_cpu_supports("sse4.2");
  return has_sse42;
}
#else
std::uint32_t ExtendHardware(std::uint32_t init_crc, const void* data, std::size_t n) noexcept {
  return ExtendPortable(init_crc, data, n);
}
bool IsHardwareAccelerated() noexcept { return false; }
#endif

std::uint32_t Extend(std::uint32_t init_crc, const void* data, std::size_t n) noexcept {
  static const ExtendFn impl = ChooseImplementation();
  return impl(init_crc, data, n);
}

}  // namespace rill::crc32c
