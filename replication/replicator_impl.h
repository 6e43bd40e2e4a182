// rill/replication/replicator_impl.h: Replicator::Impl, private to replicator.cpp (the thread's
// loop, resync, stats and the status file) and replicator_shipping.cpp (building messages,
// publishing them, their acks, duplicates and fencing). Not installed: not part of the API.
// Thread safety: see replicator.h; every member not marked shared is the replicator thread's.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include <string>
#include "rill/base/futex.h"
#include "rill/journal/journal_reader.h"
#include "rill/replication/nats_stream_port.h"
#include "rill/replication/status_file.h"

#include "rill/replication/replicator.h"

namespace rill::replication {
namespace replicator_detail {

inline std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
inline std::int64_t RealtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string Range(std::uint64_t first, std::uint64_t end) {
  std::string s = std::to_string(first);
  s.append("..").append(std::to_string(end - 1));
  return s;
}

// Transient errors are retried after a resync; the others stop the replicator for good.
inline bool IsFinal(const Status& s) {
  return !(s.IsUnavailable() || s.IsTimedOut() || s.IsNotFound() || s.IsIOError());
}

}  // namespace replicator_detail

class Replicator::Impl {
 public:
  Impl(ReplicatorOptions o, std::unique_ptr<StreamPort> port, std::unique_ptr<journal::JournalReader> reader)
      : opt_(std::move(o)), port_(std::move(port)), reader_(std::move(reader)), builder_(opt_.ship_max_bytes) {}

  void Launch() {
    port_->SetAckWake([this] { Nudge(); });
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }

  // Nudge's: declared before the port, whose client threads call Nudge until it is destroyed.
  std::atomic<std::uint32_t> nudges_{0};  // the futex word AwaitAckOrCommit sleeps on
  std::atomic<bool> sleeping_{false};

  // Invariant: only the replicator thread stores it, and never lower. Release: pairs with
  // the engine's acquire load; what it covers was acked by a quorum.
  std::atomic<std::uint64_t> replicated_{0};
  mutable std::mutex mu_;  // guards final_, stats_; cv_ waits on it
  mutable std::condition_variable cv_;
  std::mutex wake_mu_;  // guards wake_: SetWake({}) returns only once no call is running
  std::function<void()> wake_;
  Status final_;
  ReplicatorStats stats_;

  // Wakes the replicator thread when it sleeps with messages in flight (AwaitAckOrCommit): an
  // ack arrived (the port's ack wake, a client thread) or the engine committed (OnCommitted, the
  // writer thread). Cheap when it does not sleep: a fence and a load.
  void Nudge() noexcept {
    // Seq_cst fence: a Dekker pair with AwaitAckOrCommit's. The caller stored its news (an ack
    // ready for PollAcks, a committed position) before; the sleeper stores sleeping_ before
    // looking for news: either it sees the news, or we see it sleeping and wake it.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!sleeping_.load(std::memory_order_relaxed)) return;
    nudges_.fetch_add(1, std::memory_order_relaxed);
    FutexWakeAll(nudges_);
  }

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
  Status CompareBeforeFence(const ShippedMessage& fence, std::uint64_t first_seq, bool* equal);
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
  void WriteStatusFile(bool force);
  void Sleep(std::int64_t ns);
  void AwaitAckOrCommit();

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
  std::int64_t status_written_ns_ = 0;  // steady clock; 0: never
  bool status_pending_ = false;         // stats_ is newer than the file (Sleep writes it too)
  std::string status_text_;             // the file's text last written, without its time
};

}  // namespace rill::replication
