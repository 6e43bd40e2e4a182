#include "rill/replication/reconcile.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "rill/journal/journal_reader.h"
#include "rill/replication/message_format.h"

namespace rill::replication {

namespace {

// Where a message sits for the searches below: a data message at its first position, a fence
// (no position of its own) right after the position it follows. Non-decreasing with sequences.
std::uint64_t SearchKey(const MessageHeaders& h) { return h.fence() ? h.first_position - 1 : h.first_position; }

class Comparer {
 public:
  Comparer(StreamPort& port, journal::JournalReader& reader, std::uint64_t first_seq, std::uint64_t local_first,
           std::uint64_t local_end)
      : port_(port), reader_(reader), first_seq_(first_seq), local_first_(local_first), local_end_(local_end) {}

  Result<const ShippedMessage*> Get(std::uint64_t seq) {
    auto it = cache_.find(seq);
    if (it != cache_.end()) return &it->second;
    Result<ShippedMessage> m = port_.Get(seq);
    if (!m.ok()) return m.status();
    return &cache_.emplace(seq, std::move(m).value()).first->second;
  }

  // The last position p of m such that m's batches up to p equal the local journal's
  // (m.first - 1 when the first differs). Batches below the local journal's first position
  // cannot be compared and count as equal.
  Result<std::uint64_t> LastEqual(const ShippedMessage& m) {
    std::uint64_t last = m.headers.first_position - 1;
    scratch_.Assign(m.bytes);
    Result<std::vector<BatchSlice>> slices = SplitBatches(scratch_, m.headers);
    if (!slices.ok()) return slices.status();
    bool seeked = false;
    for (const BatchSlice& b : *slices) {
      const std::uint64_t b_last = b.first_position + b.record_count - 1;
      if (b_last < local_first_) {
        last = b_last;
        continue;
      }
      if (b.first_position < local_first_ || b_last > local_end_) break;
      if (!seeked) {
        if (!reader_.SeekToPosition(b.first_position).ok()) break;  // not a local batch boundary
        seeked = true;
      }
      journal::RawBatch rb;
      if (reader_.NextBatch(&rb) != journal::ReadStatus::kRecord) break;
      const std::span<const std::byte> theirs = scratch_.span().subspan(b.offset, b.size);
      if (rb.first_position != b.first_position || rb.bytes.size() != theirs.size() ||
          std::memcmp(rb.bytes.data(), theirs.data(), theirs.size()) != 0)
        break;
      last = b_last;
    }
    return last;
  }

  // A fence holds no position: it is as equal as the message it follows (so that equality
  // still holds for a prefix of sequences); fences back to the stream's first message (the rest
  // removed by retention) count as equal.
  Result<bool> Equal(std::uint64_t seq) {
    for (; seq >= first_seq_ && seq != 0; --seq) {
      Result<const ShippedMessage*> m = Get(seq);
      if (!m.ok()) return m.status();
      const MessageHeaders& h = (*m)->headers;
      if (Status s = CheckPayload(h, (*m)->bytes.size()); !s.ok())
        return s.WithContext("reconcile: seq " + std::to_string(seq));
      if (h.fence()) continue;
      Result<std::uint64_t> last = LastEqual(**m);
      if (!last.ok()) return last.status();
      return *last == h.end() - 1;
    }
    return true;
  }

 private:
  StreamPort& port_;
  journal::JournalReader& reader_;
  const std::uint64_t first_seq_, local_first_, local_end_;
  std::map<std::uint64_t, ShippedMessage> cache_;
  AlignedBytes scratch_;
};

}  // namespace

Result<JournalVsStream> CompareJournalWithStream(StreamPort& port, const std::string& dir) {
  JournalVsStream out;
  Result<TailInfo> tail = port.Tail();
  if (!tail.ok()) return tail.status();
  Result<std::unique_ptr<journal::JournalReader>> reader =
      journal::JournalReader::Open({.directory = dir, .verify_checksums = true});
  if (!reader.ok() && !reader.status().IsNotFound()) return reader.status().WithContext("reconcile");
  out.local_exists = reader.ok();
  if (out.local_exists) {
    Result<std::vector<journal::SegmentInfo>> segs = (*reader)->ListSegments();
    if (!segs.ok()) return segs.status();
    out.local_first = segs->empty() ? 1 : segs->front().first_position;
    out.local_end = std::max((*reader)->committed_position(), out.local_first - 1);
  }
  if (tail->last_seq == 0) {
    out.stream_is_prefix = true;
    out.common_end = out.local_exists ? out.local_first - 1 : 0;
    return out;
  }
  journal::JournalReader* r = out.local_exists ? reader->get() : nullptr;
  if (r == nullptr) {
    Result<ShippedMessage> last = port.Get(tail->last_seq);
    if (!last.ok()) return last.status();
    out.stream_end = last->headers.end() - 1;
    out.stream_last_epoch = last->headers.epoch;
    out.stream_last_seq = last->seq;
    return out;
  }
  Comparer c(port, *r, tail->first_seq, out.local_first, out.local_end);
  Result<const ShippedMessage*> last = c.Get(tail->last_seq);
  if (!last.ok()) return last.status();
  out.stream_end = (*last)->headers.end() - 1;
  out.stream_last_epoch = (*last)->headers.epoch;
  out.stream_last_seq = (*last)->seq;

  // The last message starting at or before the local end (positions grow with sequences; a
  // fence right after the local end counts: it follows what the local journal holds).
  std::uint64_t lo = tail->first_seq, hi = tail->last_seq;
  {
    Result<const ShippedMessage*> first = c.Get(lo);
    if (!first.ok()) return first.status();
    if (SearchKey((*first)->headers) > out.local_end) {
      out.common_end = out.local_end;  // nothing to compare: the stream starts after us
      return out;
    }
  }
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    Result<const ShippedMessage*> m = c.Get(mid);
    if (!m.ok()) return m.status();
    if (SearchKey((*m)->headers) <= out.local_end) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const std::uint64_t top = lo;
  // Equality holds for a prefix of sequences (two histories part once): the last equal one.
  std::uint64_t eq_lo = tail->first_seq - 1, eq_hi = top;
  Result<bool> top_equal = c.Equal(top);
  if (!top_equal.ok()) return top_equal.status();
  if (*top_equal) eq_lo = top;
  while (eq_lo < eq_hi && !*top_equal) {
    const std::uint64_t mid = eq_lo + (eq_hi - eq_lo + 1) / 2;
    if (mid == top) {
      eq_hi = mid - 1;
      continue;
    }
    Result<bool> e = c.Equal(mid);
    if (!e.ok()) return e.status();
    if (*e) {
      eq_lo = mid;
    } else {
      eq_hi = mid - 1;
    }
  }
  if (eq_lo >= tail->first_seq) {
    Result<const ShippedMessage*> m = c.Get(eq_lo);
    if (!m.ok()) return m.status();
    out.common_end = (*m)->headers.end() - 1;
  } else {
    Result<const ShippedMessage*> m = c.Get(tail->first_seq);
    if (!m.ok()) return m.status();
    out.common_end = (*m)->headers.first_position - 1;
  }
  if (eq_lo < top) {  // the message where they part: its equal leading batches are common too
    Result<const ShippedMessage*> m = c.Get(eq_lo + 1);
    if (!m.ok()) return m.status();
    Result<std::uint64_t> e = c.LastEqual(**m);
    if (!e.ok()) return e.status();
    out.common_end = std::max(out.common_end, *e);
  }
  out.common_end = std::min(out.common_end, out.local_end);
  out.stream_is_prefix = out.stream_end <= out.local_end && *top_equal && top == tail->last_seq;
  return out;
}

}  // namespace rill::replication
