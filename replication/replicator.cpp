// The Replicator's thread: its loop, resync, stats, the status file, and the public API
// (replicator.h). Shipping itself (messages, acks, duplicates, fencing) is in
// replicator_shipping.cpp; both share Replicator::Impl (replicator_impl.h).
#include "rill/replication/replicator.h"

#include "rill/replication/replicator_impl.h"

namespace rill::replication {

using namespace replicator_detail;

void Replicator::Impl::Run() {
  std::int64_t backoff = opt_.retry_min_ns;
  bool connected = false, synced = false;
  PublishStats("starting");
  if (!WaitForJournal()) return PublishStats("stopped");
  while (!stop_.load(std::memory_order_relaxed)) {
    Status s;
    if (!connected) {
      s = port_->Connect();
      connected = s.ok();
    }
    if (s.ok() && !synced) {
      s = Resync();
      synced = s.ok();
      if (synced) PublishStats("shipping");
    }
    if (s.ok()) {
      const std::uint64_t before = replicated_.load(std::memory_order_relaxed);
      s = Step();
      if (replicated_.load(std::memory_order_relaxed) != before) backoff = opt_.retry_min_ns;
    }
    if (s.ok()) continue;
    last_error_ = s.ToString();
    if (IsFinal(s)) return Finish(std::move(s));
    synced = false;
    std::string state = "retrying: ";
    state.append(s.message());
    PublishStats(std::move(state));
    Sleep(backoff);
    backoff = std::min(backoff * 2, opt_.retry_max_ns);
  }
  PublishStats("stopped");
}

// An engine's journal appears only when the engine opens, after the replicator was handed to
// it (EngineOptions::replication): until then, try again every 20 ms; the state says why.
bool Replicator::Impl::WaitForJournal() {
  while (reader_ == nullptr) {
    if (stop_.load(std::memory_order_relaxed)) return false;
    Result<std::unique_ptr<journal::JournalReader>> r =
        journal::JournalReader::Open({.directory = opt_.journal_directory, .verify_checksums = true});
    if (r.ok()) {
      reader_ = std::move(r).value();
      return true;
    }
    std::string state = "waiting for the journal at ";
    state.append(opt_.journal_directory).append(": ").append(r.status().ToString());
    PublishStats(std::move(state));
    Sleep(20'000'000);
  }
  return true;
}

// SCALE-OUT 3a step 1: abandon what is in flight, then continue after the stream's last
// message, which must be this journal's.
Status Replicator::Impl::Resync() {
  port_->AbandonInFlight();
  // Resend the abandoned messages with their boundaries: one of them may still be stored
  // late, and then ours must be its exact duplicate (same msg-id, same bytes).
  if (!inflight_.empty()) {
    replay_.clear();
    for (const InFlight& f : inflight_) replay_.push_back({f.msg.headers.first_position, f.msg.headers.count});
  }
  inflight_.clear();
  carry_.valid = false;
  builder_.Take(0);
  ++resyncs_;
  Result<TailInfo> tail = port_->Tail();
  if (!tail.ok()) return tail.status();
  const std::uint64_t committed = reader_->committed_position();
  if (tail->last_seq == 0) {
    Result<std::vector<journal::SegmentInfo>> segs = reader_->ListSegments();
    if (!segs.ok()) return segs.status();
    if (segs->empty()) return Status::Unavailable("the journal has no segment yet");
    next_position_ = segs->front().first_position;
    base_seq_ = 0;
    base_msg_id_.clear();
  } else {
    Result<ShippedMessage> last = port_->Get(tail->last_seq);
    if (!last.ok()) return last.status();
    const MessageHeaders& h = last->headers;
    if (Status s = CheckPayload(h, last->bytes.size()); !s.ok())
      return s.WithContext("replicator: resync: seq " + std::to_string(last->seq));
    auto fenced = [&](std::string_view why) {
      std::string m = "fenced: the stream ";
      if (h.fence()) {
        m.append("ends with the fence of epoch ").append(std::to_string(h.epoch)).append(" after position ");
        m.append(std::to_string(h.first_position - 1));
      } else {
        m.append("holds positions ").append(Range(h.first_position, h.end())).append(" from epoch ");
        m.append(std::to_string(h.epoch));
      }
      m.append(" (seq ").append(std::to_string(last->seq)).append(", msg-id ").append(last->msg_id).append("), ");
      m.append(why).append("; this journal's committed position is ").append(std::to_string(committed));
      return Status::FailedPrecondition(m);
    };
    // A fence is published by the node that becomes the writer, right before its replicator
    // starts: our own says where to start; another epoch's means a new writer took over.
    if (h.fence() && h.epoch != opt_.epoch)
      return fenced("another writer's (this replicator's epoch is " + std::to_string(opt_.epoch) + ")");
    if (h.end() - 1 > committed) return fenced("beyond this journal");
    bool equal = false;
    RILL_RETURN_IF_ERROR(h.fence() ? CompareBeforeFence(*last, tail->first_seq, &equal)
                                   : CompareWithJournal(*last, &equal));
    if (!equal) return fenced("other bytes than this journal's batches there");
    next_position_ = h.end();
    base_seq_ = last->seq;
    base_msg_id_ = last->msg_id;
    Advance(h.end() - 1);
  }
  if (Status s = reader_->SeekToPosition(next_position_); !s.ok()) return s.WithContext("replicator: resync");
  return Status::OK();
}

// Our own fence: the stream before it must be this journal (the node caught up to it, or
// reconciled it, before publishing the fence): compare the last data message before it.
// Fences in a row (epochs that never wrote) are walked over; none left in the stream
// (retention): nothing to compare.
Status Replicator::Impl::CompareBeforeFence(const ShippedMessage& fence, std::uint64_t first_seq, bool* equal) {
  *equal = true;
  for (std::uint64_t seq = fence.seq - 1; seq >= first_seq && seq != 0; --seq) {
    Result<ShippedMessage> m = port_->Get(seq);
    if (m.status().IsNotFound()) return Status::OK();  // removed by retention meanwhile
    if (!m.ok()) return m.status();
    if (Status s = CheckPayload(m->headers, m->bytes.size()); !s.ok())
      return s.WithContext("replicator: resync: seq " + std::to_string(seq));
    if (m->headers.end() != fence.headers.first_position) {
      std::string t = "replicator: resync: seq ";
      t.append(std::to_string(seq)).append(" ends at position ").append(std::to_string(m->headers.end() - 1));
      t.append(" but the fence at seq ").append(std::to_string(fence.seq)).append(" follows position ");
      t.append(std::to_string(fence.headers.first_position - 1)).append(": the position chain is broken");
      return Status::Corruption(t);
    }
    if (!m->headers.fence()) return CompareWithJournal(*m, equal);
  }
  return Status::OK();
}

// Reads the local batches at m's positions and compares them with m's bytes. A position that
// retention already deleted cannot be compared: accepted (it was replicated before).
Status Replicator::Impl::CompareWithJournal(const ShippedMessage& m, bool* equal) {
  *equal = false;
  Status s = reader_->SeekToPosition(m.headers.first_position);
  if (s.IsNotFound()) {
    *equal = true;
    return Status::OK();
  }
  RILL_RETURN_IF_ERROR(s);
  std::size_t at = 0;
  std::uint64_t position = m.headers.first_position;
  while (position < m.headers.end()) {
    journal::RawBatch rb;
    const journal::ReadStatus st = reader_->NextBatch(&rb);
    if (st == journal::ReadStatus::kError) return reader_->error();
    if (st == journal::ReadStatus::kEnd) return Status::OK();  // shorter here: not equal
    if (rb.first_position != position || at + rb.bytes.size() > m.bytes.size() ||
        std::memcmp(m.bytes.data() + at, rb.bytes.data(), rb.bytes.size()) != 0)
      return Status::OK();
    at += rb.bytes.size();
    position += rb.record_count;
  }
  *equal = position == m.headers.end() && at == m.bytes.size();
  return Status::OK();
}

void Replicator::Impl::Advance(std::uint64_t last_position) {
  if (last_position <= replicated_.load(std::memory_order_relaxed)) return;
  replicated_.store(last_position, std::memory_order_release);
  Wake();
}

void Replicator::Impl::Wake() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    if (wake_) wake_();
  }
  { std::lock_guard<std::mutex> lock(mu_); }  // a waiter between its check and its sleep sees the store
  cv_.notify_all();
}

void Replicator::Impl::Finish(Status s) {
  std::string state = "stopped: ";
  state.append(s.ToString());
  {
    std::lock_guard<std::mutex> lock(mu_);
    final_ = std::move(s);  // before the wake-up (engine_replication.h relies on it)
  }
  PublishStats(std::move(state));
  Wake();
}

void Replicator::Impl::PublishStats(std::string state) {
  const std::uint64_t committed = reader_ != nullptr ? reader_->committed_position() : 0;  // null: waiting
  const std::uint64_t replicated = replicated_.load(std::memory_order_relaxed);
  std::unique_lock<std::mutex> lock(mu_);
  ReplicatorStats& s = stats_;
  s.messages = messages_;
  s.bytes = bytes_;
  s.duplicates = duplicates_;
  s.resyncs = resyncs_;
  s.replicated_position = replicated;
  s.committed_position = committed;
  s.lag_positions = committed > replicated ? committed - replicated : 0;
  std::int64_t oldest = 0;
  if (!inflight_.empty()) {
    oldest = inflight_.front().msg.first_timestamp_ns;
  } else if (carry_.valid) {
    oldest = carry_.timestamp_ns;
  }
  s.lag_seconds = s.lag_positions != 0 && oldest != 0 ? std::max<double>(0, (RealtimeNs() - oldest) / 1e9) : 0;
  s.last_seq = base_seq_;
  s.state = std::move(state);
  s.last_error = last_error_;
  const bool stopped = s.state.rfind("stopped", 0) == 0;
  lock.unlock();
  status_pending_ = true;
  WriteStatusFile(stopped);
}

// <journal dir>/replication.status (status_file.h): the lag for `rill inspect info` and
// monitoring, from outside the process. At most every 100 ms (every second while nothing
// changes), and always the final state. Only once the journal is open: before, its directory
// may not exist or be the engine's to create.
// A failed write is ignored: the file is advisory and its `updated` time shows it is stale.
void Replicator::Impl::WriteStatusFile(bool force) {
  const std::int64_t now = SteadyNs();
  if (reader_ == nullptr || (!force && status_written_ns_ != 0 && now - status_written_ns_ < 100'000'000)) return;
  ReplicatorStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);  // only this thread changes stats_: a copy is enough
    s = stats_;
  }
  ReplicationStatus f;
  f.pid = ::getpid();
  f.stream = StreamName(opt_.app, opt_.shard);
  f.urls = opt_.nats_urls;
  f.epoch = opt_.epoch;
  f.state = s.state;
  f.replicated_position = s.replicated_position;
  f.committed_position = s.committed_position;
  f.lag_positions = s.lag_positions;
  f.lag_seconds = s.lag_seconds;
  f.last_seq = s.last_seq;
  f.messages = s.messages;
  f.bytes = s.bytes;
  f.duplicates = s.duplicates;
  f.resyncs = s.resyncs;
  f.last_error = s.last_error;
  // Unchanged values: a heartbeat every second is enough (`updated` shows the replicator lives).
  std::string text = FormatReplicationStatus(f);
  if (!force && text == status_text_ && now - status_written_ns_ < 1'000'000'000) {
    status_pending_ = false;
    return;
  }
  status_text_ = std::move(text);
  f.updated_ns = RealtimeNs();
  (void)WriteReplicationStatus(opt_.journal_directory, f);
  status_written_ns_ = now;
  status_pending_ = false;
}

void Replicator::Impl::Sleep(std::int64_t ns) {
  const std::int64_t until = SteadyNs() + ns;
  while (!stop_.load(std::memory_order_relaxed) && SteadyNs() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // A backoff of up to retry_max_ns: "retrying: ..." reaches the file meanwhile.
    if (status_pending_) WriteStatusFile(false);
  }
}

Result<std::unique_ptr<Replicator>> Replicator::Start(const ReplicatorOptions& options) {
  RILL_RETURN_IF_ERROR(ValidateNames(options.app, options.shard));
  NatsPortConfig c;
  c.urls = options.nats_urls;
  c.client_name =
      options.client_name.empty() ? "rill-replicator-" + options.app + "-" + options.shard : options.client_name;
  c.app = options.app;
  c.shard = options.shard;
  c.create = options.create_stream;
  c.replicas = options.replicas;
  c.duplicate_window_ns = options.duplicate_window_ns;
  c.max_msg_size = options.max_msg_size;
  c.window = options.window;
  return Start(options, MakeNatsStreamPort(c));
}

Result<std::unique_ptr<Replicator>> Replicator::Start(const ReplicatorOptions& options,
                                                      std::unique_ptr<StreamPort> port) {
  RILL_RETURN_IF_ERROR(ValidateNames(options.app, options.shard));
  if (options.window == 0 || options.ship_max_bytes == 0 || options.ack_timeout_ns <= 0 || options.retry_min_ns <= 0)
    return Status::InvalidArgument("replicator: window, ship_max_bytes, ack_timeout_ns and retry_min_ns must be > 0");
  if (options.ship_max_bytes > options.max_msg_size)
    return Status::InvalidArgument("replicator: ship_max_bytes " + std::to_string(options.ship_max_bytes) +
                                   " exceeds max_msg_size " + std::to_string(options.max_msg_size));
  if (!port) return Status::InvalidArgument("replicator: no stream port");
  // A journal that does not exist yet is waited for on the thread (WaitForJournal).
  Result<std::unique_ptr<journal::JournalReader>> reader =
      journal::JournalReader::Open({.directory = options.journal_directory, .verify_checksums = true});
  auto impl = std::make_unique<Impl>(options, std::move(port), reader.ok() ? std::move(reader).value() : nullptr);
  impl->Launch();
  return std::unique_ptr<Replicator>(new Replicator(std::move(impl)));
}

Replicator::Replicator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Replicator::~Replicator() { Stop(); }
void Replicator::Stop() { impl_->Stop(); }

std::uint64_t Replicator::replicated_position() const noexcept {
  return impl_->replicated_.load(std::memory_order_acquire);
}

void Replicator::SetWake(std::function<void()> wake) {
  std::lock_guard<std::mutex> lock(impl_->wake_mu_);
  impl_->wake_ = std::move(wake);
}

void Replicator::OnCommitted() noexcept { impl_->Nudge(); }

Status Replicator::final_error() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->final_;
}

ReplicatorStats Replicator::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->stats_;
}

std::string Replicator::status() const { return stats().state; }

Status Replicator::WaitReplicated(std::uint64_t position, std::int64_t timeout_ns) const {
  std::unique_lock<std::mutex> lock(impl_->mu_);
  const bool done = impl_->cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns), [&] {
    return impl_->replicated_.load(std::memory_order_acquire) >= position || !impl_->final_.ok();
  });
  if (impl_->replicated_.load(std::memory_order_acquire) >= position) return Status::OK();
  if (!impl_->final_.ok()) return impl_->final_;
  (void)done;
  return Status::TimedOut("replicator: position " + std::to_string(position) + " not replicated in time (at " +
                          std::to_string(impl_->replicated_.load(std::memory_order_acquire)) + ", " +
                          impl_->stats_.state + ")");
}

}  // namespace rill::replication
