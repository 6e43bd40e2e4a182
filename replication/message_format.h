// rill/replication/message_format.h: what a replicated journal looks like on the wire
// (SCALE-OUT.md 3a): names, headers, msg-ids, how batches are coalesced into a message, and
// the position-chain rule every consumer checks.
//
//   Stream RILL_<app>_<shard>, subject rill.<app>.<shard>.j, schema bucket RILL_<app>_<shard>_schema.
//   One message = one or more whole journal batches, verbatim (batch frame + data frames,
//   CRCs included), consecutive, of one schema fingerprint. Headers:
//     Nats-Msg-Id: <app>.<shard>/<epoch>/<first_position>
//     Rill-First-Position, Rill-Count, Rill-Epoch (decimal), Rill-Schema (16 hex digits)
//   Invariant: message k+1 starts at first(k) + count(k).
//
//   FENCE (SCALE-OUT 3c): a message of zero records that a node publishes when it becomes the
//   writer with a new epoch, before its replicator ships anything:
//     Nats-Msg-Id: <app>.<shard>/<epoch>/fence        (FenceMsgId; never a data message's id)
//     Rill-First-Position = the stream's last position + 1, Rill-Count: 0,
//     Rill-Epoch = the new epoch, Rill-Schema = the schema of the message before it; no payload.
//   It is published with both expectations (the stream's last sequence and msg-id), so it lands
//   right after what the new writer has caught up to, and every later publish of an older
//   writer (a zombie) is refused: its expectations name a message that is no longer the last.
//   The next message starts at the fence's first position (count 0 keeps the chain). Consumers
//   apply nothing for a fence; a fence with bytes, or a data message without, is Corruption
//   (CheckPayload). An empty stream gets no fence: JetStream cannot expect "empty" (last
//   sequence 0 means no expectation), so a fence there would stop nobody.
//
//   MessageBuilder b(64 << 10);
//   while (reader->NextBatch(&rb) == ReadStatus::kRecord && b.Accepts(rb.bytes.size(), rb.schema_fingerprint))
//     b.Add(rb.first_position, rb.record_count, rb.timestamp_ns, rb.schema_fingerprint, rb.bytes);
//   OutgoingMessage m = b.Take();
//
// Thread safety: pure functions and a plain value class.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rill/base/result.h"

namespace rill::replication {

inline constexpr std::string_view kHeaderMsgId = "Nats-Msg-Id";
inline constexpr std::string_view kHeaderExpectedLastMsgId = "Nats-Expected-Last-Msg-Id";
inline constexpr std::string_view kHeaderFirstPosition = "Rill-First-Position";
inline constexpr std::string_view kHeaderCount = "Rill-Count";
inline constexpr std::string_view kHeaderEpoch = "Rill-Epoch";
inline constexpr std::string_view kHeaderSchema = "Rill-Schema";

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// InvalidArgument unless app and shard are non-empty [A-Za-z0-9_-].
Status ValidateNames(std::string_view app, std::string_view shard);
std::string StreamName(std::string_view app, std::string_view shard);        // RILL_<app>_<shard>
std::string SubjectName(std::string_view app, std::string_view shard);       // rill.<app>.<shard>.j
std::string SchemaBucketName(std::string_view app, std::string_view shard);  // RILL_<app>_<shard>_schema
std::string MsgId(std::string_view app, std::string_view shard, std::uint64_t epoch, std::uint64_t first_position);
std::string FenceMsgId(std::string_view app, std::string_view shard,
                       std::uint64_t epoch);            // <app>.<shard>/<epoch>/fence
std::string FingerprintHex(std::uint64_t fingerprint);  // 16 lowercase hex digits
Result<std::uint64_t> ParseFingerprintHex(std::string_view text);

// The Rill-* headers of one message.
struct MessageHeaders {
  std::uint64_t first_position = 0;
  std::uint32_t count = 0;  // records; 0: a fence (no payload)
  std::uint64_t epoch = 0;
  std::uint64_t schema_fingerprint = 0;
  std::uint64_t end() const noexcept { return first_position + count; }  // the next message's first
  bool fence() const noexcept { return count == 0; }
};

HeaderList EncodeHeaders(const MessageHeaders& h);  // the four Rill-* fields (not the msg-id)
// Corruption naming the missing or malformed field (a message rill did not write, or damage).
// Rill-Count 0 is accepted (a fence): pair it with CheckPayload once the payload is known.
Result<MessageHeaders> DecodeHeaders(const HeaderList& fields);
// Corruption unless the payload fits the count: none for a fence, some for records.
Status CheckPayload(const MessageHeaders& h, std::size_t payload_bytes);
std::string_view FindHeader(const HeaderList& fields, std::string_view name);  // "" when absent

// A message ready to publish (or being in flight: the bytes are kept for resends and for
// comparing a duplicate with what the stream stored).
struct OutgoingMessage {
  MessageHeaders headers;
  std::int64_t first_timestamp_ns = 0;  // of its first batch (replication lag in seconds)
  std::uint32_t batches = 0;
  std::vector<std::byte> bytes;
};

// Coalesces consecutive whole batches into one message of at most max_bytes (a single larger
// batch alone). Never splits a batch, never mixes schema fingerprints.
class MessageBuilder {
 public:
  explicit MessageBuilder(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  bool empty() const noexcept { return msg_.batches == 0; }
  std::size_t size() const noexcept { return msg_.bytes.size(); }
  std::uint32_t count() const noexcept { return msg_.headers.count; }
  // Whether a batch of `bytes` with this fingerprint may join the message.
  bool Accepts(std::size_t bytes, std::uint64_t schema_fingerprint) const noexcept;
  // REQUIRES: Accepts(...), and first_position continues the message (checked: false if not).
  bool Add(std::uint64_t first_position, std::uint32_t record_count, std::int64_t timestamp_ns,
           std::uint64_t schema_fingerprint, std::span<const std::byte> bytes);
  OutgoingMessage Take(std::uint64_t epoch);  // the message so far; the builder is empty after

 private:
  std::size_t max_bytes_;
  OutgoingMessage msg_;
};

// Where a message stands against a consumer's next expected position.
enum class ChainStep : std::uint8_t {
  kNext,         // starts exactly at `next`
  kRedelivered,  // entirely below `next`: already applied, skip it
  kGap,          // starts after `next`: positions are missing
  kOverlap,      // starts below `next` and ends at or after it
};
ChainStep ClassifyMessage(std::uint64_t next, const MessageHeaders& h) noexcept;
const char* ChainStepName(ChainStep s) noexcept;

// One batch inside a message's bytes.
struct BatchSlice {
  std::uint64_t first_position = 0;
  std::uint32_t record_count = 0;
  std::size_t offset = 0, size = 0;
};

// A received payload copied to an 8-aligned address behind a segment header of the current
// format version: the journal's batch parser reads frames with aligned loads and takes the
// format version from the segment header in front of them.
class AlignedBytes {
 public:
  void Assign(std::span<const std::byte> bytes);
  std::span<const std::byte> span() const noexcept { return {base() + kPrefix, size_}; }
  const std::byte* base() const noexcept { return reinterpret_cast<const std::byte*>(words_.data()); }
  static constexpr std::size_t kPrefix = 128;  // journal::kSegmentHeaderSize

 private:
  std::vector<std::uint64_t> words_;
  std::size_t size_ = 0;
};

// Splits a message into its batches and validates all of it before anything is applied:
// every frame and CRC (the journal's batch parser, Verify::kAll), the position chain from
// h.first_position, the total count, and that the batches fill the message exactly.
// A fence (count 0, no payload) has no batches: an empty result.
// Corruption naming the first problem; offsets in the result are relative to message.span().
Result<std::vector<BatchSlice>> SplitBatches(const AlignedBytes& message, const MessageHeaders& h);

}  // namespace rill::replication
