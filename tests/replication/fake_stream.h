// rill/tests/replication/fake_stream.h: an in-memory JetStream stream behind the StreamPort
// seam, for replicator and follower tests without servers. It keeps what the design relies on
// (SCALE-OUT 2): msg-id dedup checked BEFORE the expected-last-sequence check, payloads never
// compared, acks that can be lost (stored, never acknowledged: cnats then waits forever) and
// refusals as during an election. Tests also store foreign messages directly.
//
//   auto stream = std::make_shared<FakeStream>();
//   auto rep = Replicator::Start(options, std::make_unique<FakePort>(stream));
//   stream->lose_acks = 3;  // the next 3 stored publishes never get their ack
//
// Thread safety: FakeStream is shared by ports and the test thread (one mutex).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rill/replication/replication_options.h"
#include "rill/replication/stream_port.h"

namespace rill::replication::test {

struct FakeStream {
  std::mutex mu;
  std::condition_variable cv;            // a message was stored
  std::vector<ShippedMessage> messages;  // seq = index + 1
  std::map<std::string, std::uint64_t> dedup;
  std::map<std::uint64_t, std::vector<std::byte>> schemas;
  std::size_t max_msg_size = 1u << 20;
  // Fault injection (under mu).
  int lose_acks = 0;         // the next N stored publishes lose their ack
  int refuse_transient = 0;  // the next N publishes are refused as "no responders" (not stored)
  bool down = false;         // every call fails with Unavailable
  std::uint64_t publishes = 0, refused_wrong_last = 0;

  // What JetStream does with a publish. Returns false when the ack is lost.
  bool Store(const std::string& msg_id, const MessageHeaders& h, std::span<const std::byte> bytes,
             std::uint64_t expected_last_seq, const std::string& expected_last_msg_id, PublishAck* ack) {
    std::lock_guard<std::mutex> lock(mu);
    ++publishes;
    if (refuse_transient > 0) {
      --refuse_transient;
      ack->ok = false;
      ack->error = AckError::kTransient;
      ack->text = "no responders (fake election)";
      return true;
    }
    if (auto it = dedup.find(msg_id); it != dedup.end()) {  // before the sequence check
      ack->ok = true;
      ack->duplicate = true;
      ack->seq = it->second;
      return true;
    }
    if (expected_last_seq != 0 && expected_last_seq != messages.size()) {
      ++refused_wrong_last;
      ack->ok = false;
      ack->error = AckError::kWrongLastSequence;
      ack->text = "wrong last sequence: " + std::to_string(messages.size());
      return true;
    }
    if (!expected_last_msg_id.empty() && (messages.empty() || messages.back().msg_id != expected_last_msg_id)) {
      ++refused_wrong_last;
      ack->ok = false;
      ack->error = AckError::kWrongLastSequence;
      ack->text = "wrong last msg ID: " + (messages.empty() ? std::string() : messages.back().msg_id);
      return true;
    }
    AppendLocked(msg_id, h, std::vector<std::byte>(bytes.begin(), bytes.end()));
    ack->ok = true;
    ack->seq = messages.size();
    if (lose_acks > 0) {
      --lose_acks;
      return false;
    }
    return true;
  }

  // A message stored by someone else (no checks). Returns its seq.
  std::uint64_t Append(const std::string& msg_id, const MessageHeaders& h, std::vector<std::byte> bytes) {
    std::lock_guard<std::mutex> lock(mu);
    AppendLocked(msg_id, h, std::move(bytes));
    return messages.size();
  }

  // A new writer's fence of `epoch` after the last message (message_format.h), stored without
  // expectations, as if published right after the tail was read. Returns its seq.
  std::uint64_t AppendFence(std::string_view app, std::string_view shard, std::uint64_t epoch) {
    std::lock_guard<std::mutex> lock(mu);
    MessageHeaders h{.first_position = 1, .count = 0, .epoch = epoch, .schema_fingerprint = 0};
    if (!messages.empty()) {
      h.first_position = messages.back().headers.end();
      h.schema_fingerprint = messages.back().headers.schema_fingerprint;
    }
    AppendLocked(FenceMsgId(app, shard, epoch), h, {});
    return messages.size();
  }

  std::vector<ShippedMessage> Snapshot() {
    std::lock_guard<std::mutex> lock(mu);
    return messages;
  }

 private:
  void AppendLocked(const std::string& msg_id, const MessageHeaders& h, std::vector<std::byte> bytes) {
    ShippedMessage m;
    m.seq = messages.size() + 1;
    m.msg_id = msg_id;
    m.headers = h;
    m.bytes = std::move(bytes);
    if (!msg_id.empty()) dedup.emplace(msg_id, m.seq);
    messages.push_back(std::move(m));
    cv.notify_all();
  }
};

class FakePort final : public StreamPort {
 public:
  explicit FakePort(std::shared_ptr<FakeStream> s) : s_(std::move(s)) {}

  Status Connect() override { return Down() ? Unavailable() : Status::OK(); }
  std::size_t max_message_bytes() const override { return s_->max_msg_size; }

  Result<TailInfo> Tail() override {
    if (Down()) return Unavailable();
    std::lock_guard<std::mutex> lock(s_->mu);
    const std::uint64_t n = s_->messages.size();
    return TailInfo{n ? 1u : 0u, n, n};
  }
  Result<ShippedMessage> Get(std::uint64_t seq) override {
    if (Down()) return Unavailable();
    std::lock_guard<std::mutex> lock(s_->mu);
    if (seq == 0 || seq > s_->messages.size()) return Status::NotFound("fake: no message " + std::to_string(seq));
    return s_->messages[seq - 1];
  }
  Status PutSchema(std::uint64_t fp, std::span<const std::byte> blob) override {
    if (Down()) return Unavailable();
    std::lock_guard<std::mutex> lock(s_->mu);
    auto [it, inserted] = s_->schemas.emplace(fp, std::vector<std::byte>(blob.begin(), blob.end()));
    if (!inserted && it->second != std::vector<std::byte>(blob.begin(), blob.end()))
      return Status::Corruption("fake: another blob for this fingerprint");
    return Status::OK();
  }
  Result<std::vector<std::byte>> GetSchema(std::uint64_t fp) override {
    if (Down()) return Unavailable();
    std::lock_guard<std::mutex> lock(s_->mu);
    auto it = s_->schemas.find(fp);
    if (it == s_->schemas.end()) return Status::NotFound("fake: no schema " + FingerprintHex(fp));
    return it->second;
  }
  Status Publish(const std::string& msg_id, const MessageHeaders& h, std::span<const std::byte> bytes,
                 std::uint64_t expected_last_seq, const std::string& expected_last_msg_id,
                 std::uint64_t token) override {
    if (Down()) return Unavailable();
    PublishAck ack;
    ack.token = token;
    if (s_->Store(msg_id, h, bytes, expected_last_seq, expected_last_msg_id, &ack)) acks_.push_back(std::move(ack));
    return Status::OK();
  }
  void PollAcks(std::vector<PublishAck>* out, std::int64_t timeout_ns) override {
    if (acks_.empty()) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::int64_t>(timeout_ns, 1'000'000)));
      return;
    }
    for (PublishAck& a : acks_) out->push_back(std::move(a));
    acks_.clear();
  }
  void AbandonInFlight() override { acks_.clear(); }

  Status Subscribe(std::uint64_t start_seq) override {
    if (Down()) return Unavailable();
    cursor_ = start_seq == 0 ? 1 : start_seq;
    return Status::OK();
  }
  Result<ShippedMessage> Next(std::int64_t timeout_ns) override {
    std::unique_lock<std::mutex> lock(s_->mu);
    s_->cv.wait_for(lock, std::chrono::nanoseconds(timeout_ns),
                    [&] { return s_->down || cursor_ <= s_->messages.size(); });
    if (s_->down) return Unavailable();
    if (cursor_ > s_->messages.size()) return Status::TimedOut("fake: nothing new");
    return s_->messages[cursor_++ - 1];
  }

 private:
  bool Down() {
    std::lock_guard<std::mutex> lock(s_->mu);
    return s_->down;
  }
  static Status Unavailable() { return Status::Unavailable("fake: stream down"); }

  std::shared_ptr<FakeStream> s_;
  std::deque<PublishAck> acks_;
  std::uint64_t cursor_ = 1;
};

// Options for a replicator and a follower over a FakeStream (stream "bank"/"0"): small
// messages and windows so a few hundred records make many messages, fast timeouts and retries.
inline ReplicatorOptions FakeReplicatorOptions(const std::string& journal_dir, std::uint64_t epoch = 1,
                                               std::int64_t ack_timeout_ns = 200'000'000) {
  ReplicatorOptions o;
  o.journal_directory = journal_dir;
  o.app = "bank";
  o.shard = "0";
  o.epoch = epoch;
  o.ship_max_bytes = 4096;
  o.window = 8;
  o.ack_timeout_ns = ack_timeout_ns;
  o.retry_min_ns = 5'000'000;
  o.retry_max_ns = 50'000'000;
  return o;
}

inline FollowerOptions FakeFollowerOptions(const std::string& dir) {
  FollowerOptions o;
  o.directory = dir;
  o.app = "bank";
  o.shard = "0";
  o.segment_size = 64u << 10;  // other segment boundaries than the leader's
  o.retry_min_ns = 5'000'000;
  return o;
}

}  // namespace rill::replication::test
