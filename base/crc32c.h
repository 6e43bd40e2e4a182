// rill/base/crc32c.h: CRC-32C (Castagnoli), as used by iSCSI (RFC 3720), ext4 and leveldb.
//
//   uint32_t crc = rill::crc32c::Value(data, n);
//   crc = rill::crc32c::Extend(crc, more, m);          // == Value(data ++ more)
//   frame.crc = rill::crc32c::Mask(crc);              // what the journal stores
//
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once, at first use), else a
// portable slicing-by-8 table. Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rill::crc32c {

// Returns the CRC-32C of data[0, n) appended to the data that init_crc summarises.
std::uint32_t Extend(std::uint32_t init_crc, const void* data, std::size_t n) noexcept;

// Returns the CRC-32C of data[0, n).
inline std::uint32_t Value(const void* data, std::size_t n) noexcept { return Extend(0, data, n); }

// A CRC computed over data that itself embeds CRCs is weak, so stored CRCs are masked
// (leveldb's rotate-and-add): store Mask(crc), compare Unmask(stored) with the computed one.
inline constexpr std::uint32_t kMaskDelta = 0xa282ead8u;
inline constexpr std::uint32_t Mask(std::uint32_t crc) noexcept { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline constexpr std::uint32_t Unmask(std::uint32_t masked) noexcept {
  std::uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

// True when Extend uses the hardware instruction on this CPU.
bool IsHardwareAccelerated() noexcept;

// The two implementations, exposed so tests and benchmarks can compare them.
// REQUIRES for ExtendHardware: IsHardwareAccelerated().
std::uint32_t ExtendPortable(std::uint32_t init_crc, const void* data, std::size_t n) noexcept;
std::uint32_t ExtendHardware(std::uint32_t init_crc, const void* data, std::size_t n) noexcept;

}  // namespace rill::crc32c
