// The Replicator's shipping (SCALE-OUT.md 3a steps 2-4): coalescing committed batches into
// messages, the pipelined window of publishes with both expectations, their acks in order,
// duplicates compared byte for byte, and fencing. The loop that calls Step is replicator.cpp.
#include "rill/replication/replicator_impl.h"

namespace rill::replication {

using namespace replicator_detail;

Status Replicator::Impl::Step() {
  // Fill the window: a message goes out as soon as it is full or nothing more is committed.
  bool idle = false;
  while (inflight_.size() < opt_.window) {
    OutgoingMessage m;
    bool have = false;
    RILL_RETURN_IF_ERROR(BuildMessage(&m, &have));
    if (!have) {
      idle = true;
      break;
    }
    InFlight& f = inflight_.emplace_back();
    f.msg = std::move(m);
    f.msg_id = MsgId(opt_.app, opt_.shard, opt_.epoch, f.msg.headers.first_position);
    f.token = next_token_++;
    f.sent_ns = SteadyNs();
    // Pipelined expectations: the i-th message in flight follows base_seq_ + i, and the
    // message before it in flight (another writer's message in between breaks the chain).
    const std::size_t i = inflight_.size() - 1;
    const std::string& previous = i == 0 ? base_msg_id_ : inflight_[i - 1].msg_id;
    RILL_RETURN_IF_ERROR(port_->Publish(f.msg_id, f.msg.headers, f.msg.bytes, base_seq_ + i, previous, f.token));
  }
  if (inflight_.empty()) {
    if (idle) reader_->WaitForCommit(20'000'000);
    PublishStats("shipping");
    return Status::OK();
  }
  acks_.clear();
  if (inflight_.size() >= opt_.window) {
    port_->PollAcks(&acks_, 5'000'000);  // a full window: only an ack lets anything move
  } else if (idle) {
    AwaitAckOrCommit();  // either lets something move: ship new batches while acks are pending
  } else {
    port_->PollAcks(&acks_, 0);
  }
  for (PublishAck& a : acks_) {
    // Tokens are consecutive from the front; anything else is a late ack of an abandoned one.
    if (a.token < inflight_.front().token || a.token - inflight_.front().token >= inflight_.size()) continue;
    InFlight& f = inflight_[a.token - inflight_.front().token];
    if (f.state != InFlight::State::kPending) continue;
    f.state = a.ok ? InFlight::State::kAcked : InFlight::State::kFailed;
    f.ack = std::move(a);
  }
  RILL_RETURN_IF_ERROR(AdvanceHead());
  if (!inflight_.empty() && SteadyNs() - inflight_.front().sent_ns > opt_.ack_timeout_ns) {
    std::string m = "no ack within ";
    m.append(std::to_string(opt_.ack_timeout_ns / 1'000'000)).append(" ms for positions ");
    m.append(Range(inflight_.front().msg.headers.first_position, inflight_.front().msg.headers.end()));
    return Status::TimedOut(m);
  }
  PublishStats("shipping");
  return Status::OK();
}

// Messages in flight, nothing more committed: sleeps until an ack or a commit (Nudge), so a
// batch committed meanwhile goes out at once instead of after the next ack. At most 1 ms: an
// engine that does not call OnCommitted (or a port without an ack wake) is polled.
void Replicator::Impl::AwaitAckOrCommit() {
  const std::uint32_t seen = nudges_.load(std::memory_order_relaxed);
  sleeping_.store(true, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);  // see Nudge
  port_->PollAcks(&acks_, 0);
  if (acks_.empty() && reader_->committed_position() < reader_->next_position())
    (void)FutexWait(nudges_, seen, 1'000'000);
  sleeping_.store(false, std::memory_order_relaxed);
  port_->PollAcks(&acks_, 0);
}

Status Replicator::Impl::BuildMessage(OutgoingMessage* out, bool* have) {
  *have = false;
  // After a resync, the abandoned messages first, with their boundaries.
  std::uint32_t limit = 0;
  while (!replay_.empty() && replay_.front().first < next_position_) replay_.pop_front();
  if (!replay_.empty()) {
    if (replay_.front().first == next_position_) {
      limit = replay_.front().count;
      replay_.pop_front();
    } else {
      replay_.clear();
    }
  }
  auto fits = [&](std::size_t bytes, std::uint64_t fp, std::uint32_t count) {
    return builder_.Accepts(bytes, fp) && (limit == 0 || builder_.count() + count <= limit);
  };
  for (;;) {
    if (limit != 0 && builder_.count() >= limit) break;
    if (carry_.valid) {
      if (!fits(carry_.bytes.size(), carry_.fingerprint, carry_.count)) break;
      builder_.Add(carry_.first, carry_.count, carry_.timestamp_ns, carry_.fingerprint, carry_.bytes);
      carry_.valid = false;
      continue;
    }
    journal::RawBatch rb;
    const journal::ReadStatus st = reader_->NextBatch(&rb);
    if (st == journal::ReadStatus::kEnd) break;
    if (st == journal::ReadStatus::kError) return reader_->error().WithContext("replicator: reading the journal");
    if (rb.first_position != next_position_ + builder_.count())
      return Status::Corruption("replicator: the journal reader returned position " +
                                std::to_string(rb.first_position) + ", expected " +
                                std::to_string(next_position_ + builder_.count()));
    if (!schemas_put_.count(rb.schema_fingerprint)) {
      // Before the first message of this fingerprint; on failure the resync rereads the batch.
      if (Status s = PutSchemaOnce(rb.schema_fingerprint); !s.ok()) return s;
    }
    if (fits(rb.bytes.size(), rb.schema_fingerprint, rb.record_count)) {
      builder_.Add(rb.first_position, rb.record_count, rb.timestamp_ns, rb.schema_fingerprint, rb.bytes);
      continue;
    }
    carry_.valid = true;
    carry_.first = rb.first_position;
    carry_.count = rb.record_count;
    carry_.fingerprint = rb.schema_fingerprint;
    carry_.timestamp_ns = rb.timestamp_ns;
    carry_.bytes.assign(rb.bytes.begin(), rb.bytes.end());
    break;
  }
  if (builder_.empty()) return Status::OK();
  if (builder_.size() > port_->max_message_bytes()) {
    std::string m = "replicator: the batch at position ";
    m.append(std::to_string(next_position_)).append(" is ").append(std::to_string(builder_.size()));
    m.append(" bytes, more than the stream's max_msg_size ").append(std::to_string(port_->max_message_bytes()));
    m.append(": lower the engine's max batch or raise the stream's MaxMsgSize (a batch is never split)");
    return Status::InvalidArgument(m);
  }
  *out = builder_.Take(opt_.epoch);
  next_position_ = out->headers.end();
  *have = true;
  return Status::OK();
}

Status Replicator::Impl::PutSchemaOnce(std::uint64_t fingerprint) {
  RILL_RETURN_IF_ERROR(port_->PutSchema(fingerprint, reader_->schema_blob()));
  schemas_put_.insert(fingerprint);
  return Status::OK();
}

// Delivers the contiguous acked prefix; the oldest message in flight decides what an error means.
Status Replicator::Impl::AdvanceHead() {
  while (!inflight_.empty() && inflight_.front().state != InFlight::State::kPending) {
    const InFlight& f = inflight_.front();
    if (f.state == InFlight::State::kFailed) {
      // Its expectation was the sequence after every acked message: a refusal means someone
      // else appended since (SCALE-OUT 3c). Later refusals may only follow a failed head.
      if (f.ack.error == AckError::kWrongLastSequence) return Fenced(f);
      std::string m = "publish of positions ";
      m.append(Range(f.msg.headers.first_position, f.msg.headers.end())).append(" failed: ").append(f.ack.text);
      return Status::Unavailable(m);
    }
    if (f.ack.duplicate) {
      ++duplicates_;
      RILL_RETURN_IF_ERROR(CheckDuplicate(f));
    } else if (f.ack.seq != base_seq_ + 1) {
      std::string m = "the stream stored positions ";
      m.append(Range(f.msg.headers.first_position, f.msg.headers.end())).append(" at seq ");
      m.append(std::to_string(f.ack.seq)).append(", expected ").append(std::to_string(base_seq_ + 1));
      return Status::Unavailable(m);  // resync: the tail decides
    }
    base_seq_ = f.ack.seq;
    base_msg_id_ = f.msg_id;
    ++messages_;
    bytes_ += f.msg.bytes.size();
    const std::uint64_t last = f.msg.headers.end() - 1;
    inflight_.pop_front();
    Advance(last);
  }
  return Status::OK();
}

// SCALE-OUT 3a step 4: JetStream does not compare payloads, so a duplicate msg-id is only
// harmless when the stored bytes are ours.
Status Replicator::Impl::CheckDuplicate(const InFlight& f) {
  Result<ShippedMessage> stored = port_->Get(f.ack.seq);
  if (!stored.ok()) return stored.status();
  const MessageHeaders& h = stored->headers;
  if (h.first_position == f.msg.headers.first_position && stored->bytes == f.msg.bytes) {
    if (f.ack.seq != base_seq_ + 1) return Status::Unavailable("duplicate stored at an unexpected seq: resync");
    return Status::OK();
  }
  // The same positions coalesced differently (an earlier process): a prefix either way.
  const std::size_t common = std::min(stored->bytes.size(), f.msg.bytes.size());
  // (A fence stored under our msg-id is no prefix of anything: it cannot be, msg-ids differ.)
  const bool prefix = !h.fence() && h.first_position == f.msg.headers.first_position &&
                      std::memcmp(stored->bytes.data(), f.msg.bytes.data(), common) == 0;
  if (prefix) return Status::Unavailable("the stream holds these positions in other message boundaries: resync");
  std::string m = "duplicate msg-id ";
  m.append(f.msg_id).append(" at seq ").append(std::to_string(f.ack.seq)).append(": the stream stores positions ");
  m.append(Range(h.first_position, h.end())).append(" (epoch ").append(std::to_string(h.epoch));
  m.append(") with other bytes than this journal's positions ");
  m.append(Range(f.msg.headers.first_position, f.msg.headers.end()));
  m.append(": two writers produced different histories; halted");
  return Status::Corruption(m);
}

Status Replicator::Impl::Fenced(const InFlight& f) {
  std::string m = "fenced: the stream refused positions ";
  m.append(Range(f.msg.headers.first_position, f.msg.headers.end())).append(" after seq ");
  m.append(std::to_string(base_seq_)).append(" (").append(f.ack.text).append(")");
  if (Result<TailInfo> t = port_->Tail(); t.ok() && t->last_seq != 0) {
    if (Result<ShippedMessage> last = port_->Get(t->last_seq); last.ok()) {
      m.append("; the stream holds positions up to ").append(std::to_string(last->headers.end() - 1));
      m.append(last->headers.fence() ? ", then the fence of epoch " : " from epoch ");
      m.append(std::to_string(last->headers.epoch)).append(" at seq ").append(std::to_string(last->seq));
    }
  }
  m.append("; another writer appended: restart as a standby");
  return Status::FailedPrecondition(m);
}

}  // namespace rill::replication
