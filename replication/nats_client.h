// rill/replication/nats_client.h: the little of NATS JetStream that replication needs, as RAII
// C++ over cnats (libnats 3.4.1). cnats types stay in the .cpp files (pImpl).
//
//   auto c = NatsClient::Connect("nats://127.0.0.1:4222,nats://127.0.0.1:4223", {.name = "replicator"});
//   if (!c.ok()) return c.status();                     // Unavailable, naming the URLs
//   NatsClient& nats = **c;
//   RILL_RETURN_IF_ERROR(nats.EnsureStream({.name = "RILL_bank_0", .subject = "rill.bank.0.j"}));
//   PublishCompletion r = nats.Publish("rill.bank.0.j", "bank.0/1/1", /*expected_last_seq=*/0, headers, bytes);
//   Result<StoredMessage> m = nats.GetMessage("RILL_bank_0", r.seq);
//
//   AsyncPublisher pub(nats, {.window = 32});           // pipelined publishes, acks polled
//   pub.Publish(subject, msg_id, base + i, headers, bytes, /*token=*/i);
//   std::vector<PublishCompletion> done;
//   pub.Poll(&done, 100'000'000);                        // waits up to 100 ms for the first
//   if (pub.OldestInFlightAgeNs() > ack_timeout_ns) pub.AbandonAll();  // cnats never times out
//
//   auto sub = nats.SubscribeOrdered("RILL_bank_0", "rill.bank.0.j", /*start_seq=*/1);
//   Result<StoredMessage> next = (*sub)->Next(1'000'000'000);          // TimedOut when none came
//
// Errors: Unavailable for connection trouble (cnats' text included; at once, without waiting
// for a timeout, while the connection is down and cnats reconnects), TimedOut when the server
// did not answer in time, NotFound for an absent stream/message/key, InvalidArgument for a
// stream configured otherwise, FailedPrecondition for a lost compare-and-set (KV).
//
// Thread safety: NatsClient's methods may be called from any thread (cnats serialises on the
// connection). An AsyncPublisher and an OrderedSubscription are each driven by ONE thread, their
// owner; cnats' own threads only queue completions/messages for them. A NatsClient must outlive
// every AsyncPublisher and OrderedSubscription made on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rill/base/result.h"

namespace rill::replication {

// Message headers in order, name then value (the same shape as message_format.h's HeaderList).
using NatsHeaders = std::vector<std::pair<std::string, std::string>>;

inline constexpr int kJsErrWrongLastSequence = 10071;  // JSStreamWrongLastSequenceErr
inline constexpr int kJsErrNoMessageFound = 10037;

struct ConnectOptions {
  std::string name = "rill";                        // the connection name servers show
  std::int64_t connect_timeout_ns = 2'000'000'000;  // per server, for the first connect
  std::int64_t request_timeout_ns = 5'000'000'000;  // JetStream API calls (create, KV, sync publish)
  // GetStreamTail, GetMessage, StreamLeader: a resync's reads. While a stream elects a leader
  // (4-9 s on 2.9) nobody answers them, and an answer only comes to a request sent after the
  // election: a caller retrying on TimedOut resumes at most this long after it (measured:
  // with the 5 s request timeout, a leader kill took 10.4 s to the next replicated ack).
  std::int64_t read_timeout_ns = 1'000'000'000;
  std::int64_t reconnect_wait_ns = 100'000'000;  // between attempts; reconnects forever
  // PINGs this often; two unanswered ones mark the server dead (a SIGSTOPped node is noticed
  // in ~3 s and the client moves to another).
  std::int64_t ping_interval_ns = 1'000'000'000;
};

// A stream as replication wants it: file storage, limits retention with no limits, discard
// old (never triggered: no limits), DenyDelete, DenyPurge, a duplicate window for msg-ids.
struct StreamSpec {
  std::string name;
  std::string subject;
  int replicas = 3;
  std::int64_t duplicate_window_ns = 120'000'000'000;  // 2 min
  std::int32_t max_msg_size = 1 << 20;                 // 1 MiB
};

struct StreamTail {
  std::uint64_t first_seq = 0;  // 0 when empty (JetStream reports last_seq + 1; normalised)
  std::uint64_t last_seq = 0;   // 0 when nothing was ever stored
  std::uint64_t messages = 0;
};

struct StoredMessage {
  std::uint64_t seq = 0;  // stream sequence
  NatsHeaders headers;    // as stored (Nats-Msg-Id, Rill-*)
  std::vector<std::byte> bytes;
  // The first header of that name, or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct KvEntry {
  std::string value;  // bytes
  std::uint64_t revision = 0;
};

enum class PublishError : std::uint8_t {
  kNone,
  kWrongLastSequence,  // 10071: Nats-Expected-Last-Sequence did not match the stream's last seq
  kNoResponders,       // nobody answered the subject: no stream, or a leader election going on
  kTimedOut,           // no ack in time (sync Publish; async: see OldestInFlightAgeNs/AbandonAll)
  kDisconnected,       // the connection is closed or could not send
  kOther,              // any other JetStream error (js_error_code, text)
};

// The outcome of one publish. ok: stored (or a duplicate of a stored one) at `seq`.
struct PublishCompletion {
  std::uint64_t token = 0;  // the caller's, from AsyncPublisher::Publish (0 for sync Publish)
  bool ok = false;
  std::uint64_t seq = 0;
  bool duplicate = false;  // the msg-id was in the duplicate window: NOT stored again; seq is the
                           // first copy's. JetStream does not compare payloads.
  PublishError error = PublishError::kNone;
  int js_error_code = 0;  // JetStream's error code when it sent one (10071, ...), else 0
  std::string text;       // empty when ok
};

class OrderedSubscription;

class NatsClient {
 public:
  // One connection (reconnecting forever) and a JetStream context. urls: comma-separated.
  static Result<std::unique_ptr<NatsClient>> Connect(const std::string& urls, const ConnectOptions& options = {});
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  const std::string& urls() const noexcept;
  bool connected() const noexcept;

  // Creates the stream, or checks that an existing one has the same subject and replicas
  // (InvalidArgument naming both configurations when not). Idempotent.
  Status EnsureStream(const StreamSpec& spec);
  Status DeleteStream(const std::string& stream);  // tests only: replication streams DenyDelete msgs, not streams
  Result<StreamTail> GetStreamTail(const std::string& stream);
  // The stored message at seq (direct from the stream, js_GetMsg). NotFound when absent/deleted.
  Result<StoredMessage> GetMessage(const std::string& stream, std::uint64_t seq);
  // The server name of the stream's current leader ("" while there is none).
  Result<std::string> StreamLeader(const std::string& stream);

  // A synchronous publish (waits up to request_timeout for the ack). expected_last_seq 0: no
  // expectation (cnats cannot express "expect an empty stream"). msg_id "" : none.
  PublishCompletion Publish(const std::string& subject, const std::string& msg_id, std::uint64_t expected_last_seq,
                            const NatsHeaders& headers, std::span<const std::byte> bytes);

  // Key-value buckets (file storage, history 1). ttl_ns 0: entries never expire.
  Status EnsureBucket(const std::string& bucket, int replicas, std::int64_t ttl_ns = 0);
  Result<KvEntry> KvGet(const std::string& bucket, const std::string& key);  // NotFound when absent
  // Stores key only if absent: FailedPrecondition when it exists. Returns the revision.
  Result<std::uint64_t> KvCreate(const std::string& bucket, const std::string& key, std::string_view value);
  // Compare-and-set: FailedPrecondition when the key's revision is not expected_revision.
  Result<std::uint64_t> KvUpdate(const std::string& bucket, const std::string& key, std::string_view value,
                                 std::uint64_t expected_revision);

  // An ordered push consumer on `subject` of `stream` from start_seq (>= 1): every message
  // once, in sequence order; cnats recreates the consumer itself after gaps or server loss.
  Result<std::unique_ptr<OrderedSubscription>> SubscribeOrdered(const std::string& stream, const std::string& subject,
                                                                std::uint64_t start_seq);

  struct Impl;
  Impl* impl() noexcept { return impl_.get(); }

 private:
  explicit NatsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Pipelined publishes with at most `window` in flight, their outcomes polled by the owner.
//
// Completions may come in any order (match them by token). cnats 3.4.1 NEVER times out an
// async publish whose ack was lost (e.g. the stream leader died after receiving it): the owner
// watches OldestInFlightAgeNs() and calls AbandonAll() past its ack timeout, then resyncs from
// the stream's tail and resends (same msg-ids: the duplicate window makes resends harmless).
//
// Threading: Publish/Poll/AbandonAll/in_flight are for the owner thread only. cnats' delivery
// thread queues completions under a mutex and calls options.wake (if set) after each, so an
// owner that waits elsewhere (a futex, a condition) can be woken; wake must be cheap and must
// not call back into this object.
class AsyncPublisher {
 public:
  struct Options {
    std::size_t window = 32;               // messages in flight at most
    std::function<void()> wake = nullptr;  // optional: called from cnats' thread after each completion
  };
  AsyncPublisher(NatsClient& client, Options options);
  ~AsyncPublisher();  // abandons whatever is in flight (no completion comes for it)
  AsyncPublisher(const AsyncPublisher&) = delete;
  AsyncPublisher& operator=(const AsyncPublisher&) = delete;

  // Sends without waiting. Unavailable when the window is full, the connection is not up
  // (reconnecting or closed: the text says which, and cnats' last error), or cnats refused the message (then no
  // completion comes for this token). headers must not contain Nats-Msg-Id/Nats-Expected-*: msg_id and
  // expected_last_seq (0: none) set them.
  Status Publish(const std::string& subject, const std::string& msg_id, std::uint64_t expected_last_seq,
                 const NatsHeaders& headers, std::span<const std::byte> bytes, std::uint64_t token);

  // Moves the completions that arrived into *out (appending); when none is queued, waits up to
  // timeout_ns for the first. Returns how many were appended.
  std::size_t Poll(std::vector<PublishCompletion>* out, std::int64_t timeout_ns);

  // Takes every publish in flight back from cnats: no completion will ever be queued for them
  // (not even one being delivered right now). Completions queued earlier stay for Poll.
  // Returns the abandoned tokens in publish order.
  std::vector<std::uint64_t> AbandonAll();

  std::size_t in_flight() const;             // published, neither completed nor abandoned
  std::int64_t OldestInFlightAgeNs() const;  // 0 when nothing is in flight
  std::size_t window() const noexcept { return window_; }

  struct Impl;

 private:
  std::size_t window_;
  std::unique_ptr<Impl> impl_;
};

// Ordered delivery of a stream's messages (see NatsClient::SubscribeOrdered). Owner thread only.
class OrderedSubscription {
 public:
  ~OrderedSubscription();
  OrderedSubscription(const OrderedSubscription&) = delete;
  OrderedSubscription& operator=(const OrderedSubscription&) = delete;

  // The next message (seq from its JetStream metadata). TimedOut when none came within
  // timeout_ns; Unavailable when the connection is closed.
  Result<StoredMessage> Next(std::int64_t timeout_ns);

  struct Impl;
  explicit OrderedSubscription(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rill::replication
