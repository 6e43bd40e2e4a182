#include "rill/replication/message_format.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "rill/journal/batch_parser.h"
#include "rill/journal/format.h"

namespace rill::replication {

static_assert(AlignedBytes::kPrefix == journal::kSegmentHeaderSize);

namespace {

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::string Join(std::string_view a, std::string_view b, std::string_view c, std::string_view d, std::string_view e) {
  std::string s;
  s.reserve(a.size() + b.size() + c.size() + d.size() + e.size());
  s.append(a).append(b).append(c).append(d).append(e);
  return s;
}

template <typename T>
bool ParseDecimal(std::string_view text, T* out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Status ValidateNames(std::string_view app, std::string_view shard) {
  for (std::string_view n : {app, shard}) {
    bool ok = !n.empty();
    for (char c : n) ok = ok && NameChar(c);
    if (!ok) {
      std::string m = "replication: app and shard must be non-empty [A-Za-z0-9_-], got app '";
      m.append(app).append("' shard '").append(shard).append("'");
      return Status::InvalidArgument(m);
    }
  }
  return Status::OK();
}

std::string StreamName(std::string_view app, std::string_view shard) { return Join("RILL_", app, "_", shard, ""); }
std::string SubjectName(std::string_view app, std::string_view shard) { return Join("rill.", app, ".", shard, ".j"); }
std::string SchemaBucketName(std::string_view app, std::string_view shard) {
  return Join("RILL_", app, "_", shard, "_schema");
}

std::string MsgId(std::string_view app, std::string_view shard, std::uint64_t epoch, std::uint64_t first_position) {
  std::string s = Join(app, ".", shard, "/", std::to_string(epoch));
  s.append("/").append(std::to_string(first_position));
  return s;
}

std::string FenceMsgId(std::string_view app, std::string_view shard, std::uint64_t epoch) {
  std::string s = Join(app, ".", shard, "/", std::to_string(epoch));
  s.append("/fence");
  return s;
}

std::string FingerprintHex(std::uint64_t fingerprint) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, fingerprint >>= 4) s[static_cast<std::size_t>(i)] = kDigits[fingerprint & 0xf];
  return s;
}

Result<std::uint64_t> ParseFingerprintHex(std::string_view text) {
  std::uint64_t v = 0;
  if (text.size() != 16) return Status::Corruption("schema fingerprint: expected 16 hex digits");
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (ec != std::errc() || end != text.data() + text.size())
    return Status::Corruption("schema fingerprint: expected 16 hex digits");
  return v;
}

HeaderList EncodeHeaders(const MessageHeaders& h) {
  HeaderList out;
  out.reserve(4);
  out.emplace_back(kHeaderFirstPosition, std::to_string(h.first_position));
  out.emplace_back(kHeaderCount, std::to_string(h.count));
  out.emplace_back(kHeaderEpoch, std::to_string(h.epoch));
  out.emplace_back(kHeaderSchema, FingerprintHex(h.schema_fingerprint));
  return out;
}

std::string_view FindHeader(const HeaderList& fields, std::string_view name) {
  for (const auto& [k, v] : fields)
    if (k == name) return v;
  return {};
}

Result<MessageHeaders> DecodeHeaders(const HeaderList& fields) {
  MessageHeaders h;
  auto bad = [](std::string_view name, std::string_view value) {
    std::string m = "replicated message: header ";
    m.append(name).append(value.empty() ? " is missing" : " is malformed: '").append(value);
    if (!value.empty()) m.append("'");
    return Status::Corruption(m);
  };
  const std::string_view first = FindHeader(fields, kHeaderFirstPosition);
  if (!ParseDecimal(first, &h.first_position) || h.first_position == 0) return bad(kHeaderFirstPosition, first);
  const std::string_view count = FindHeader(fields, kHeaderCount);
  if (!ParseDecimal(count, &h.count)) return bad(kHeaderCount, count);  // 0: a fence
  const std::string_view epoch = FindHeader(fields, kHeaderEpoch);
  if (!ParseDecimal(epoch, &h.epoch)) return bad(kHeaderEpoch, epoch);
  const std::string_view schema = FindHeader(fields, kHeaderSchema);
  Result<std::uint64_t> fp = ParseFingerprintHex(schema);
  if (!fp.ok()) return bad(kHeaderSchema, schema);
  h.schema_fingerprint = *fp;
  return h;
}

Status CheckPayload(const MessageHeaders& h, std::size_t payload_bytes) {
  if (h.fence() == (payload_bytes == 0)) return Status::OK();
  std::string m = "replicated message at position ";
  m.append(std::to_string(h.first_position)).append(" (epoch ").append(std::to_string(h.epoch)).append("): ");
  if (h.fence()) {
    m.append("Rill-Count 0 (a fence) with a payload of ").append(std::to_string(payload_bytes)).append(" bytes");
  } else {
    m.append("Rill-Count ").append(std::to_string(h.count)).append(" with an empty payload");
  }
  return Status::Corruption(m);
}

bool MessageBuilder::Accepts(std::size_t bytes, std::uint64_t schema_fingerprint) const noexcept {
  if (empty()) return true;  // a single oversized batch travels alone
  return schema_fingerprint == msg_.headers.schema_fingerprint && msg_.bytes.size() + bytes <= max_bytes_;
}

bool MessageBuilder::Add(std::uint64_t first_position, std::uint32_t record_count, std::int64_t timestamp_ns,
                         std::uint64_t schema_fingerprint, std::span<const std::byte> bytes) {
  if (!Accepts(bytes.size(), schema_fingerprint) || record_count == 0) return false;
  if (empty()) {
    msg_.headers.first_position = first_position;
    msg_.headers.schema_fingerprint = schema_fingerprint;
    msg_.first_timestamp_ns = timestamp_ns;
    msg_.bytes.reserve(std::max(max_bytes_, bytes.size()));
  } else if (first_position != msg_.headers.end()) {
    return false;  // Invariant: a message holds consecutive batches only
  }
  msg_.headers.count += record_count;
  msg_.batches += 1;
  msg_.bytes.insert(msg_.bytes.end(), bytes.begin(), bytes.end());
  return true;
}

OutgoingMessage MessageBuilder::Take(std::uint64_t epoch) {
  OutgoingMessage out = std::move(msg_);
  out.headers.epoch = epoch;
  msg_ = OutgoingMessage{};
  return out;
}

ChainStep ClassifyMessage(std::uint64_t next, const MessageHeaders& h) noexcept {
  if (h.first_position == next) return ChainStep::kNext;
  if (h.first_position > next) return ChainStep::kGap;
  return h.end() <= next ? ChainStep::kRedelivered : ChainStep::kOverlap;
}

const char* ChainStepName(ChainStep s) noexcept {
  switch (s) {
    case ChainStep::kNext:
      return "next";
    case ChainStep::kRedelivered:
      return "redelivered";
    case ChainStep::kGap:
      return "gap";
    case ChainStep::kOverlap:
      return "partial overlap";
  }
  return "?";
}

void AlignedBytes::Assign(std::span<const std::byte> bytes) {
  words_.assign((kPrefix + bytes.size() + 7) / 8, 0);
  journal::SegmentHeader header{};
  header.format_version = journal::kFormatVersion;
  std::memcpy(words_.data(), &header, sizeof header);
  if (!bytes.empty()) std::memcpy(reinterpret_cast<std::byte*>(words_.data()) + kPrefix, bytes.data(), bytes.size());
  size_ = bytes.size();
}

Result<std::vector<BatchSlice>> SplitBatches(const AlignedBytes& message, const MessageHeaders& h) {
  const std::size_t limit = AlignedBytes::kPrefix + message.span().size();
  std::vector<BatchSlice> out;
  std::uint64_t position = h.first_position;
  std::size_t at = AlignedBytes::kPrefix;
  auto fail = [&](std::string_view why) {
    std::string m = "replicated message at position ";
    m.append(std::to_string(h.first_position)).append(" (").append(std::to_string(h.count));
    m.append(" records): byte ").append(std::to_string(at - AlignedBytes::kPrefix)).append(": ").append(why);
    return Status::Corruption(m);
  };
  if (Status s = CheckPayload(h, message.span().size()); !s.ok()) return s;
  if (h.fence()) return out;  // applies nothing
  while (at < limit) {
    const journal::BatchParse p = journal::ParseBatch(message.base(), limit, at, position, journal::Verify::kAll);
    if (p.outcome != journal::BatchOutcome::kBatch) {
      if (p.outcome == journal::BatchOutcome::kBad) at = p.bad_offset;
      return fail(p.outcome == journal::BatchOutcome::kBad ? p.reason : "not a batch frame");
    }
    out.push_back({position, p.batch.record_count, at - AlignedBytes::kPrefix, p.batch.batch_bytes});
    position += p.batch.record_count;
    at += p.batch.batch_bytes;
    if (position > h.end()) return fail("the batches hold more records than Rill-Count");
  }
  if (out.empty()) return fail("the message holds no batch");
  if (position != h.end()) return fail("the batches hold fewer records than Rill-Count");
  return out;
}

}  // namespace rill::replication
