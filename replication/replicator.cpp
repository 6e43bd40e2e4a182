#include "rill/replication/replicator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "rill/journal/journal_reader.h"
#include "rill/replication/nats_stream_port.h"

namespace rill::replication {

namespace {

std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
std::int64_t RealtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Range(std::uint64_t first, std::uint64_t end) {
  std::string s = std::to_string(first);
  s.append("..").append(std::to_string(end - 1));
  return s;
}

// Transient errors are retried after a resync; the others stop the replicator for good.
bool IsFinal(const Status& s) { return !(s.IsUnavailable() || s.IsTimedOut() || s.IsNotFound() || s.IsIOError()); }

}  // namespace

class Replicator::Impl {
 public:
  Impl(ReplicatorOptions o, std::unique_ptr<StreamPort> port, std::unique_ptr<journal::JournalReader> reader)
      : opt_(std::move(o)), port_(std::move(port)), reader_(std::move(reader)), builder_(opt_.ship_max_bytes) {}

  void Launch() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }

  // Invariant: only the replicator thread stores it, and never lower. Release: pairs with
  // the engine's acquire load; what it covers was acked by a quorum.
  std::atomic<std::uint64_t> replicated_{0};
  mutable std::mutex mu_;  // guards final_, stats_; cv_ waits on it
  mutable std::condition_variable cv_;
  std::mutex wake_mu_;  // guards wake_: SetWake({}) returns only once no call is running
  std::function<void()> wake_;
  Status final_;
  ReplicatorStats stats_;

 private:
  struct InFlight {
    OutgoingMessage msg;
    std::string msg_id;
    std::uint64_t token = 0;
    std::int64_t sent_ns = 0;
    enum class State : std::uint8_t { kPending, kAcked, kFailed } state = State::kPending;
    PublishAck ack;
  };
  struct Boundary {
    std::uint64_t first = 0;
    std::uint32_t count = 0;
  };
  struct Carry {  // a batch read from the journal that did not fit the message being built
    bool valid = false;
    std::uint64_t first = 0, fingerprint = 0;
    std::uint32_t count = 0;
    std::int64_t timestamp_ns = 0;
    std::vector<std::byte> bytes;
  };

  void Run();
  bool WaitForJournal();
  Status Resync();
  Status CompareWithJournal(const ShippedMessage& m, bool* equal);
  Status Step();
  Status BuildMessage(OutgoingMessage* out, bool* have);
  Status PutSchemaOnce(std::uint64_t fingerprint);
  Status AdvanceHead();
  Status CheckDuplicate(const InFlight& f);
  Status Fenced(const InFlight& f);
  void Advance(std::uint64_t last_position);
  void Wake();
  void Finish(Status s);
  void PublishStats(std::string state);
  void Sleep(std::int64_t ns);

  const ReplicatorOptions opt_;
  std::unique_ptr<StreamPort> port_;
  std::unique_ptr<journal::JournalReader> reader_;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  // The replicator thread's own state.
  MessageBuilder builder_;
  Carry carry_;
  std::deque<InFlight> inflight_;        // in publish order; tokens consecutive
  std::deque<Boundary> replay_;          // boundaries abandoned at the last resync, resent as they were
  std::set<std::uint64_t> schemas_put_;  // fingerprints stored in the bucket by this process
  std::uint64_t next_position_ = 0;      // the first position not yet in a message
  std::uint64_t base_seq_ = 0;           // the stream's last sequence before inflight_.front()
  std::string base_msg_id_;              // and its msg-id ("" for an empty stream)
  std::uint64_t next_token_ = 1;
  std::uint64_t messages_ = 0, bytes_ = 0, duplicates_ = 0, resyncs_ = 0;
  std::string last_error_;
  std::vector<PublishAck> acks_;
};

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
    auto fenced = [&](std::string_view why) {
      std::string m = "fenced: the stream holds positions ";
      m.append(Range(h.first_position, h.end())).append(" from epoch ").append(std::to_string(h.epoch));
      m.append(" (seq ").append(std::to_string(last->seq)).append(", msg-id ").append(last->msg_id).append("), ");
      m.append(why).append("; this journal's committed position is ").append(std::to_string(committed));
      return Status::FailedPrecondition(m);
    };
    if (h.end() - 1 > committed) return fenced("beyond this journal");
    bool equal = false;
    RILL_RETURN_IF_ERROR(CompareWithJournal(*last, &equal));
    if (!equal) return fenced("other bytes than this journal's batches there");
    next_position_ = h.end();
    base_seq_ = last->seq;
    base_msg_id_ = last->msg_id;
    Advance(h.end() - 1);
  }
  if (Status s = reader_->SeekToPosition(next_position_); !s.ok()) return s.WithContext("replicator: resync");
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
  port_->PollAcks(&acks_, inflight_.size() >= opt_.window ? 5'000'000 : idle ? 1'000'000 : 0);
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
  const bool prefix = h.first_position == f.msg.headers.first_position &&
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
      m.append(" from epoch ").append(std::to_string(last->headers.epoch));
      m.append(" at seq ").append(std::to_string(last->seq));
    }
  }
  m.append("; another writer appended: restart as a standby");
  return Status::FailedPrecondition(m);
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
  std::lock_guard<std::mutex> lock(mu_);
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
}

void Replicator::Impl::Sleep(std::int64_t ns) {
  const std::int64_t until = SteadyNs() + ns;
  while (!stop_.load(std::memory_order_relaxed) && SteadyNs() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
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
