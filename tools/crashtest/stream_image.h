// rill/tools/crashtest/stream_image.h: what the replicated crash test compares: a record hash
// per position, of a journal, of a moved-aside tail, or of the replication stream (each record
// with the epoch of the writer that shipped it).
//
//   RecordImage j;  RILL_RETURN_IF_ERROR(ReadJournalImage(dir, &j));
//   auto stream = StreamImage::Open({.urls = urls, .app = "crashtest", .shard = "s7"});
//   RILL_RETURN_IF_ERROR((*stream)->Refresh());      // reads the messages stored since the last call
//   if (stream->records().Hash(p) != j.Hash(p)) ...
//
// A record's hash covers its whole frame (length, CRC, type, payload, padding), so equal hashes
// mean the same record bytes (FNV-1a 64: collisions are not a concern between records that
// differ). The stream is read message by message (StreamPort::Get): every message must follow
// the one before it (no missing sequence, Rill-First-Position = the previous message's end) and
// is validated whole (SplitBatches: frames, CRCs, the position chain inside it).
// Thread safety: plain values; a StreamImage is driven by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/replication/stream_port.h"

namespace rill::tools::crashtest {

struct RecordImage {
  std::uint64_t first = 0;            // the position of hashes[0] (0 while empty)
  std::vector<std::uint64_t> hashes;  // by position - first
  std::vector<std::uint64_t> epochs;  // the stream's only: the Rill-Epoch of each record's message
  std::uint64_t end() const noexcept { return first + hashes.size(); }  // one past the last position
  bool Has(std::uint64_t p) const noexcept { return !hashes.empty() && p >= first && p < end(); }
  std::uint64_t Hash(std::uint64_t p) const noexcept { return hashes[p - first]; }
  std::uint64_t last() const noexcept { return hashes.empty() ? 0 : end() - 1; }
};

// Appends the records of the batch `bytes` (a batch frame, then its record frames) to `image`.
// Corruption when the batch does not continue the image or its frames do not add up.
Status AddBatch(std::span<const std::byte> bytes, std::uint64_t first_position, std::uint32_t record_count,
                std::uint64_t epoch, RecordImage* image);

// Every committed record of the journal (or moved-aside tail) in `dir`.
Status ReadJournalImage(const std::string& dir, RecordImage* image);

struct StreamImageOptions {
  std::string urls, app, shard;
  int replicas = 3;
};

class StreamImage {
 public:
  static Result<std::unique_ptr<StreamImage>> Open(const StreamImageOptions& o);
  // Reads every message stored since the last call. Corruption on a broken chain or message.
  Status Refresh();
  const RecordImage& records() const noexcept { return image_; }
  std::uint64_t messages() const noexcept { return next_seq_ - 1; }

 private:
  explicit StreamImage(std::unique_ptr<replication::StreamPort> port) : port_(std::move(port)) {}
  std::unique_ptr<replication::StreamPort> port_;
  std::uint64_t next_seq_ = 1;
  RecordImage image_;
};

// Deletes the run's stream and its two buckets (schema, lease). Best effort: the first error.
Status DeleteRunStreams(const StreamImageOptions& o);

}  // namespace rill::tools::crashtest
