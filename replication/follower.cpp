#include "rill/replication/follower.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "rill/journal/journal_reader.h"
#include "rill/journal/journal_writer.h"
#include "rill/replication/nats_stream_port.h"

namespace rill::replication {

namespace {

std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Range(std::uint64_t first, std::uint64_t end) {
  std::string s = std::to_string(first);
  s.append("..").append(std::to_string(end - 1));
  return s;
}

// Connection trouble and a stream not ready yet are retried; the rest stops the follower.
bool IsFinal(const Status& s) { return !(s.IsUnavailable() || s.IsTimedOut() || s.IsNotFound()); }

}  // namespace

class Follower::Impl {
 public:
  Impl(FollowerOptions o, std::unique_ptr<StreamPort> port) : opt_(std::move(o)), port_(std::move(port)) {}

  void Launch() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
    writer_.reset();
  }

  // Invariant: the follower thread stores it after each append, never lower. Release: the
  // journal holds every position up to it.
  std::atomic<std::uint64_t> applied_{0};
  mutable std::mutex mu_;  // guards final_, stats_
  mutable std::condition_variable cv_;
  Status final_;
  FollowerStats stats_;

 private:
  void Run();
  Status OpenJournal();
  Status OpenWriter(std::uint64_t fingerprint, std::uint64_t first_position);
  Status Resubscribe();
  Status Apply(const ShippedMessage& m);
  Status CheckStalled();
  void Publish(std::string state);
  void Sleep(std::int64_t ns);

  const FollowerOptions opt_;
  std::unique_ptr<StreamPort> port_;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  std::unique_ptr<journal::JournalWriter> writer_;
  std::uint64_t fingerprint_ = 0;  // of the writer's segments
  bool just_subscribed_ = false;   // the next message may overlap at a batch boundary
  std::int64_t progress_ns_ = 0;   // when a message last came (or the subscription started)
  std::int64_t checked_ns_ = 0;    // when CheckStalled last read the stream's tail
  AlignedBytes scratch_;
  std::uint64_t messages_ = 0, batches_ = 0, skipped_ = 0, fences_ = 0, resubscribes_ = 0, last_seq_ = 0;
  std::string last_error_;
};

void Follower::Impl::Run() {
  std::int64_t backoff = opt_.retry_min_ns;
  bool connected = false, subscribed = false;
  Publish("starting");
  while (!stop_.load(std::memory_order_relaxed)) {
    Status s;
    if (!connected) {
      s = port_->Connect();
      connected = s.ok();
    }
    if (s.ok() && !writer_) s = OpenJournal();
    if (s.ok() && !subscribed) {
      s = Resubscribe();
      subscribed = s.ok();
      if (subscribed) Publish("following");
    }
    if (s.ok()) {
      Result<ShippedMessage> m = port_->Next(50'000'000);
      if (m.ok()) {
        s = Apply(*m);
        if (s.ok()) backoff = opt_.retry_min_ns;
        progress_ns_ = SteadyNs();
      } else if (!m.status().IsTimedOut()) {
        s = m.status();
      } else {
        s = CheckStalled();
      }
    }
    if (s.ok()) continue;
    last_error_ = s.ToString();
    if (IsFinal(s)) {
      std::string state = "stopped: ";
      state.append(s.ToString());
      {
        std::lock_guard<std::mutex> lock(mu_);
        final_ = s;
      }
      Publish(std::move(state));
      cv_.notify_all();
      return;
    }
    subscribed = false;
    std::string state = "retrying: ";
    state.append(s.message());
    Publish(std::move(state));
    Sleep(backoff);
    backoff = std::min(backoff * 2, opt_.retry_max_ns);
  }
  Publish("stopped");
}

Status Follower::Impl::OpenJournal() {
  Result<std::unique_ptr<journal::JournalReader>> reader = journal::JournalReader::Open({.directory = opt_.directory});
  if (reader.ok()) {
    // An existing journal: keep its schema (the writer appends to its last segment).
    Result<std::vector<journal::SegmentInfo>> segs = (*reader)->ListSegments();
    if (!segs.ok()) return segs.status();
    if (segs->empty()) return Status::Corruption("follower: journal " + opt_.directory + " lost its segments");
    const std::uint64_t fp = segs->back().schema_fingerprint;
    reader->reset();
    return OpenWriter(fp, 1);
  }
  if (!reader.status().IsNotFound()) return reader.status().WithContext("follower");
  // A new journal: it starts where the stream starts.
  Result<TailInfo> tail = port_->Tail();
  if (!tail.ok()) return tail.status();
  if (tail->last_seq == 0) return Status::Unavailable("the stream is empty: waiting for its first message");
  Result<ShippedMessage> first = port_->Get(tail->first_seq);
  if (!first.ok()) return first.status();
  return OpenWriter(first->headers.schema_fingerprint, first->headers.first_position);
}

Status Follower::Impl::OpenWriter(std::uint64_t fingerprint, std::uint64_t first_position) {
  Result<std::vector<std::byte>> blob = port_->GetSchema(fingerprint);
  if (!blob.ok()) return blob.status().WithContext("follower: schema " + FingerprintHex(fingerprint));
  writer_.reset();
  journal::WriterOptions w;
  w.directory = opt_.directory;
  w.segment_size = opt_.segment_size;
  w.durability = opt_.durability;
  w.sync_method = opt_.sync_method;
  w.sync_interval_ms = opt_.sync_interval_ms;
  w.first_position = first_position;
  w.schema_fingerprint = fingerprint;
  w.schema_blob = *blob;  // copied by the writer
  Result<std::unique_ptr<journal::JournalWriter>> writer = journal::JournalWriter::Open(w);
  if (!writer.ok()) {
    const Status& s = writer.status();
    // A local journal we cannot open is not a network hiccup: stop and say why.
    return s.IsUnavailable() || s.IsNotFound() ? Status::IOError(s.message()) : s;
  }
  writer_ = std::move(writer).value();
  fingerprint_ = fingerprint;
  applied_.store(writer_->committed_position(), std::memory_order_release);
  return Status::OK();
}

// Finds the first message holding a position after the local journal's end (binary search:
// positions grow with sequences) and subscribes from there.
Status Follower::Impl::Resubscribe() {
  ++resubscribes_;
  const std::uint64_t next = writer_->committed_position() + 1;
  Result<TailInfo> tail = port_->Tail();
  if (!tail.ok()) return tail.status();
  std::uint64_t start = 1;
  if (tail->last_seq != 0) {
    std::uint64_t lo = tail->first_seq, hi = tail->last_seq + 1;
    while (lo < hi) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      Result<ShippedMessage> m = port_->Get(mid);
      if (!m.ok()) return m.status();
      if (m->headers.end() > next) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    if (lo > tail->last_seq) {
      Result<ShippedMessage> last = port_->Get(tail->last_seq);
      if (!last.ok()) return last.status();
      if (last->headers.end() < next) {
        std::string m = "follower: journal ";
        m.append(opt_.directory).append(" holds positions up to ").append(std::to_string(next - 1));
        m.append(", the stream only up to ").append(std::to_string(last->headers.end() - 1));
        m.append(" (seq ").append(std::to_string(last->seq)).append("): not a copy of this stream");
        return Status::FailedPrecondition(m);
      }
    }
    start = lo;
  }
  RILL_RETURN_IF_ERROR(port_->Subscribe(start));
  just_subscribed_ = true;
  last_seq_ = start - 1;
  progress_ns_ = SteadyNs();
  return Status::OK();
}

// An ordered consumer whose server died recovers only after missed heartbeats (seconds,
// measured up to 12 s after a leader kill): when nothing came for a while although the stream
// holds more, subscribe again after the last applied message.
Status Follower::Impl::CheckStalled() {
  constexpr std::int64_t kStall = 2'000'000'000, kEvery = 1'000'000'000;
  const std::int64_t now = SteadyNs();
  if (now - progress_ns_ < kStall || now - checked_ns_ < kEvery) return Status::OK();
  checked_ns_ = now;
  Result<TailInfo> tail = port_->Tail();
  if (!tail.ok()) return Status::OK();  // the subscription may still recover by itself
  if (tail->last_seq <= last_seq_) {
    progress_ns_ = now;  // idle, not stalled
    return Status::OK();
  }
  std::string m = "the subscription stalled after seq ";
  m.append(std::to_string(last_seq_)).append(", the stream holds up to seq ").append(std::to_string(tail->last_seq));
  return Status::Unavailable(m);
}

Status Follower::Impl::Apply(const ShippedMessage& m) {
  const bool first_after_subscribe = just_subscribed_;
  just_subscribed_ = false;
  const std::uint64_t next = writer_->committed_position() + 1;
  auto halt = [&](std::string_view why) {
    std::string s = "follower: seq ";
    s.append(std::to_string(m.seq)).append(" (msg-id ").append(m.msg_id).append(") holds positions ");
    s.append(Range(m.headers.first_position, m.headers.end())).append(", the journal continues at ");
    s.append(std::to_string(next)).append(": ").append(why).append("; halted");
    return Status::Corruption(s);
  };
  const ChainStep step = ClassifyMessage(next, m.headers);
  if (step == ChainStep::kRedelivered) {
    ++skipped_;
    return Status::OK();
  }
  if (step == ChainStep::kGap) return halt("positions are missing (gap)");
  if (step == ChainStep::kOverlap && !first_after_subscribe) return halt("partial overlap");
  if (m.headers.fence()) {
    // A new writer's fence (message_format.h) at `next`: nothing to append, and its schema is
    // the previous message's (no new segment).
    if (Status s = CheckPayload(m.headers, m.bytes.size()); !s.ok())
      return s.WithContext("follower: seq " + std::to_string(m.seq));
    ++fences_;
    last_seq_ = m.seq;
    Publish("following");
    return Status::OK();
  }
  scratch_.Assign(m.bytes);
  Result<std::vector<BatchSlice>> slices = SplitBatches(scratch_, m.headers);
  if (!slices.ok()) return slices.status().WithContext("follower: seq " + std::to_string(m.seq));
  if (m.headers.schema_fingerprint != fingerprint_) {
    // The writer moved to a new schema: so do we, in a new segment.
    RILL_RETURN_IF_ERROR(OpenWriter(m.headers.schema_fingerprint, 1));
  }
  for (const BatchSlice& b : *slices) {
    if (b.first_position + b.record_count <= next) continue;  // applied before a restart
    if (b.first_position < next) return halt("partial overlap inside a batch");
    Result<std::uint64_t> last = writer_->AppendBatch(scratch_.span().subspan(b.offset, b.size));
    if (!last.ok()) {
      const Status& s = last.status();
      return s.IsUnavailable() || s.IsTimedOut() || s.IsNotFound() ? Status::IOError(s.message()) : s;
    }
    ++batches_;
    applied_.store(*last, std::memory_order_release);
  }
  ++messages_;
  last_seq_ = m.seq;
  Publish("following");
  cv_.notify_all();
  return Status::OK();
}

void Follower::Impl::Publish(std::string state) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.messages = messages_;
  stats_.batches = batches_;
  stats_.skipped_messages = skipped_;
  stats_.fences = fences_;
  stats_.resubscribes = resubscribes_;
  stats_.last_seq = last_seq_;
  stats_.applied_position = applied_.load(std::memory_order_relaxed);
  stats_.state = std::move(state);
  stats_.last_error = last_error_;
}

void Follower::Impl::Sleep(std::int64_t ns) {
  const std::int64_t until = SteadyNs() + ns;
  while (!stop_.load(std::memory_order_relaxed) && SteadyNs() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

Result<std::unique_ptr<Follower>> Follower::Start(const FollowerOptions& options) {
  RILL_RETURN_IF_ERROR(ValidateNames(options.app, options.shard));
  NatsPortConfig c;
  c.urls = options.nats_urls;
  c.client_name =
      options.client_name.empty() ? "rill-follower-" + options.app + "-" + options.shard : options.client_name;
  c.app = options.app;
  c.shard = options.shard;
  c.create = false;  // the replicator creates the stream; a follower only waits for it
  return Start(options, MakeNatsStreamPort(c));
}

Result<std::unique_ptr<Follower>> Follower::Start(const FollowerOptions& options, std::unique_ptr<StreamPort> port) {
  RILL_RETURN_IF_ERROR(ValidateNames(options.app, options.shard));
  if (options.directory.empty()) return Status::InvalidArgument("follower: options.directory is empty");
  if (!port) return Status::InvalidArgument("follower: no stream port");
  auto impl = std::make_unique<Impl>(options, std::move(port));
  impl->Launch();
  return std::unique_ptr<Follower>(new Follower(std::move(impl)));
}

Follower::Follower(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Follower::~Follower() { Stop(); }
void Follower::Stop() { impl_->Stop(); }

std::uint64_t Follower::applied_position() const noexcept { return impl_->applied_.load(std::memory_order_acquire); }

Status Follower::final_error() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->final_;
}

FollowerStats Follower::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->stats_;
}

Status Follower::WaitApplied(std::uint64_t position, std::int64_t timeout_ns) const {
  std::unique_lock<std::mutex> lock(impl_->mu_);
  impl_->cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns), [&] {
    return impl_->applied_.load(std::memory_order_acquire) >= position || !impl_->final_.ok();
  });
  if (impl_->applied_.load(std::memory_order_acquire) >= position) return Status::OK();
  if (!impl_->final_.ok()) return impl_->final_;
  return Status::TimedOut("follower: position " + std::to_string(position) + " not applied in time (at " +
                          std::to_string(impl_->applied_.load(std::memory_order_acquire)) + ", " + impl_->stats_.state +
                          ")");
}

}  // namespace rill::replication
