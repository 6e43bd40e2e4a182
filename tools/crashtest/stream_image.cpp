#include "rill/tools/crashtest/stream_image.h"

#include <cstring>

#include "rill/journal/format.h"
#include "rill/journal/journal_reader.h"
#include "rill/replication/lease.h"
#include "rill/replication/message_format.h"
#include "rill/replication/nats_client.h"
#include "rill/replication/nats_stream_port.h"

namespace rill::tools::crashtest {
namespace {

std::uint64_t Fnv1a(const std::byte* p, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<std::uint8_t>(p[i])) * 0x100000001b3ull;
  return h;
}

std::string N(std::uint64_t v) { return std::to_string(v); }

}  // namespace

Status AddBatch(std::span<const std::byte> bytes, std::uint64_t first_position, std::uint32_t record_count,
                std::uint64_t epoch, RecordImage* image) {
  if (image->hashes.empty()) {
    image->first = first_position;
  } else if (first_position != image->end()) {
    return Status::Corruption("a batch at position " + N(first_position) + " follows position " + N(image->end() - 1) +
                              ": the position chain is broken");
  }
  std::size_t at = journal::kBatchFrameSize;
  for (std::uint32_t i = 0; i < record_count; ++i) {
    std::uint32_t length = 0;
    if (at + journal::kFrameHeaderSize > bytes.size()) return Status::Corruption("a batch ends inside its frames");
    std::memcpy(&length, bytes.data() + at, sizeof length);
    const std::size_t span = journal::AlignUp(length, 8);
    if (length < journal::kFrameHeaderSize || at + span > bytes.size())
      return Status::Corruption("a record frame of " + N(length) + " bytes overruns its batch at position " +
                                N(first_position + i));
    image->hashes.push_back(Fnv1a(bytes.data() + at, span));
    image->epochs.push_back(epoch);
    at += span;
  }
  return Status::OK();
}

Status ReadJournalImage(const std::string& dir, RecordImage* image) {
  *image = RecordImage{};
  Result<std::unique_ptr<journal::JournalReader>> r = journal::JournalReader::Open({.directory = dir});
  if (!r.ok()) return r.status().WithContext("reading " + dir);
  journal::RawBatch b;
  for (;;) {
    const journal::ReadStatus s = (*r)->NextBatch(&b);
    if (s == journal::ReadStatus::kEnd) return Status::OK();
    if (s == journal::ReadStatus::kError) return (*r)->error().WithContext("reading " + dir);
    RILL_RETURN_IF_ERROR(AddBatch(b.bytes, b.first_position, b.record_count, 0, image));
  }
}

Result<std::unique_ptr<StreamImage>> StreamImage::Open(const StreamImageOptions& o) {
  replication::NatsPortConfig c;
  c.urls = o.urls;
  c.client_name = "rill-crashtest-check";
  c.app = o.app;
  c.shard = o.shard;
  c.replicas = o.replicas;
  std::unique_ptr<replication::StreamPort> port = replication::MakeNatsStreamPort(c);
  RILL_RETURN_IF_ERROR(port->Connect());
  return std::unique_ptr<StreamImage>(new StreamImage(std::move(port)));
}

Status StreamImage::Refresh() {
  Result<replication::TailInfo> tail = port_->Tail();
  if (!tail.ok()) return tail.status();
  replication::AlignedBytes aligned;
  for (; next_seq_ <= tail->last_seq; ++next_seq_) {
    Result<replication::ShippedMessage> m = port_->Get(next_seq_);
    if (!m.ok())
      return m.status().WithContext("stream message " + N(next_seq_) + " of " + N(tail->last_seq) +
                                    " (the stream is never trimmed: a missing message is a gap)");
    const replication::MessageHeaders& h = m->headers;
    if (!image_.hashes.empty() && h.first_position != image_.end())
      return Status::Corruption("stream message " + N(next_seq_) + " starts at position " + N(h.first_position) +
                                ", the message before it ended at " + N(image_.end() - 1) +
                                ": the stream's position chain is broken");
    aligned.Assign(m->bytes);
    Result<std::vector<replication::BatchSlice>> slices = replication::SplitBatches(aligned, h);
    if (!slices.ok()) return slices.status().WithContext("stream message " + N(next_seq_));
    for (const replication::BatchSlice& s : *slices)
      RILL_RETURN_IF_ERROR(
          AddBatch(aligned.span().subspan(s.offset, s.size), s.first_position, s.record_count, h.epoch, &image_));
  }
  return Status::OK();
}

Status DeleteRunStreams(const StreamImageOptions& o) {
  Result<std::unique_ptr<replication::NatsClient>> c = replication::NatsClient::Connect(o.urls);
  if (!c.ok()) return c.status();
  Status first;
  for (const std::string& s :
       {replication::StreamName(o.app, o.shard), "KV_" + replication::SchemaBucketName(o.app, o.shard),
        "KV_" + replication::LeaseBucketName(o.app, o.shard)}) {
    Status d = (*c)->DeleteStream(s);
    if (!d.ok() && !d.IsNotFound() && first.ok()) first = d.WithContext("deleting " + s);
  }
  return first;
}

}  // namespace rill::tools::crashtest
