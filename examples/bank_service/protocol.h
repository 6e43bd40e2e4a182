// rill/examples/bank_service/protocol.h: the bank service's frames: size-prefixed FlatBuffers
// (protocol.fbs), their limits, verification, and builders for both sides.
//
//   flatbuffers::FlatBufferBuilder fbb;
//   BuildDeposit(fbb, {.request_id = 1, .command_id = 42}, /*account=*/7, /*amount=*/500);
//   write(socket, fbb.GetBufferSpan());                          // the whole frame, prefix included
//   ...
//   std::uint32_t n = ReadFrameLength(header);                   // 4 bytes, little-endian
//   if (CheckFrameLength(n, max) != FrameCheck::kOk) reply_error_and_close();
//   const wire::Reply* r = VerifyReply(frame);                   // prefix included; nullptr: invalid
//
// Thread safety: free functions over caller-owned builders and buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "rill/engine/ack_level.h"
#include "rill/engine/command_outcome.h"
#include "rill/engine/decision.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/bank_service/protocol_generated.h"

namespace rill::examples::bank_service {

inline constexpr std::size_t kFrameHeaderSize = 4;  // flatbuffers::uoffset_t, little-endian
// The smallest payload that can hold a FlatBuffer: a root offset and a vtable offset.
inline constexpr std::uint32_t kMinFrameBytes = 8;
inline constexpr std::uint32_t kDefaultMaxFrameBytes = 64 * 1024;

enum class FrameCheck : std::uint8_t { kOk, kTooShort, kTooLarge };

inline std::uint32_t ReadFrameLength(const std::uint8_t* p) noexcept {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
inline FrameCheck CheckFrameLength(std::uint32_t length, std::uint32_t max_frame_bytes) noexcept {
  if (length < kMinFrameBytes) return FrameCheck::kTooShort;
  if (length > max_frame_bytes) return FrameCheck::kTooLarge;
  return FrameCheck::kOk;
}

// A whole frame (length prefix included) verified as a Request / Reply; nullptr otherwise.
// Bytes from a socket: never read a table that has not passed the verifier. The prefix stays
// part of the buffer because FlatBuffers aligns a size-prefixed buffer's fields from its first
// byte (the verifier checks alignment relative to it); `frame.data()` must be 8-byte aligned
// in memory too, or reading a 64-bit field is a misaligned load.
const wire::Request* VerifyRequest(std::span<const std::uint8_t> frame) noexcept;
const wire::Reply* VerifyReply(std::span<const std::uint8_t> frame) noexcept;
inline constexpr std::size_t kFrameAlignment = 8;

// The common fields of a request.
struct RequestHeader {
  std::uint64_t request_id = 0;
  std::uint64_t command_id = 0;  // 0: no idempotency key
  std::uint64_t expected_version = engine::kAnyVersion;
  wire::Ack ack = wire::Ack::Journaled;
};

// Client side: each Build* clears `fbb` and finishes a size-prefixed Request.
void BuildOpenAccount(flatbuffers::FlatBufferBuilder& fbb, const RequestHeader& h, std::uint64_t account,
                      std::uint64_t owner, std::uint16_t currency);
void BuildDeposit(flatbuffers::FlatBufferBuilder& fbb, const RequestHeader& h, std::uint64_t account,
                  std::int64_t amount);
void BuildWithdraw(flatbuffers::FlatBufferBuilder& fbb, const RequestHeader& h, std::uint64_t account,
                   std::int64_t amount);
void BuildTransfer(flatbuffers::FlatBufferBuilder& fbb, const RequestHeader& h, std::uint64_t from, std::uint64_t to,
                   std::int64_t amount);
void BuildBalanceQuery(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t request_id, std::uint64_t account,
                       std::uint64_t min_position = 0);

// Server side: each Build* clears `fbb` and finishes a size-prefixed Reply.
void BuildOutcomeReply(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t request_id,
                       const engine::CommandOutcome& outcome);
struct BalanceAnswer {
  std::uint64_t account = 0;
  bool found = false;
  std::int64_t balance = 0;
  std::uint64_t version = 0;
  bool closed = false;
  std::uint64_t applied_position = 0;
};
void BuildBalanceReply(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t request_id, const BalanceAnswer& answer);
void BuildErrorReply(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t request_id, wire::ErrorCode code,
                     std::string_view message);

// A verified request's command for the engine; nullopt when the body is not a command (a
// BalanceQuery, no body, or a type this build does not know).
std::optional<bank::Command> ToCommand(const wire::Request& request) noexcept;
// The engine's ack level for a wire value; nullopt when out of range.
std::optional<engine::AckLevel> ToAckLevel(wire::Ack ack) noexcept;

}  // namespace rill::examples::bank_service
