// rill/replication/stream_port.h: the little of a JetStream stream that the replicator and
// the follower use, as an interface. NatsStreamPort (nats_stream_port.h) implements it over
// NatsClient/AsyncPublisher/OrderedSubscription; tests plug in an in-memory stream that can
// lose acks, refuse publishes and store foreign messages (tests/replication/fake_stream.h).
// Keeping the shipping logic behind this seam is what lets it be tested without servers.
//
//   port->Publish(msg_id, headers, bytes, /*expected_last_seq=*/base + i, /*token=*/t);
//   std::vector<PublishAck> acks;
//   port->PollAcks(&acks, 1'000'000);  // each ack names its token
//
// Thread safety: one thread drives a port (the replicator's or the follower's).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/replication/message_format.h"

namespace rill::replication {

// A message as the stream stores it.
struct ShippedMessage {
  std::uint64_t seq = 0;
  std::string msg_id;
  MessageHeaders headers;  // decoded Rill-* headers
  std::vector<std::byte> bytes;
};

struct TailInfo {
  std::uint64_t first_seq = 0, last_seq = 0, messages = 0;  // last_seq 0: empty
};

enum class AckError : std::uint8_t {
  kNone,
  kWrongLastSequence,  // 10071/10070: the stream's last sequence or msg-id is not the expected one
  kTransient,          // no responders (election), timeout, disconnected: retry
  kOther,              // anything else: resync, and retry
};

struct PublishAck {
  std::uint64_t token = 0;
  bool ok = false;
  std::uint64_t seq = 0;   // ok only
  bool duplicate = false;  // ok only: the msg-id was already stored (at seq)
  AckError error = AckError::kNone;
  std::string text;
};

class StreamPort {
 public:
  virtual ~StreamPort() = default;

  // Connects, then makes sure the stream (and the schema bucket) exist with this port's
  // settings. Unavailable: try again later; anything else (a mismatching stream) is final.
  virtual Status Connect() = 0;
  virtual std::size_t max_message_bytes() const = 0;  // the stream's MaxMsgSize

  virtual Result<TailInfo> Tail() = 0;
  virtual Result<ShippedMessage> Get(std::uint64_t seq) = 0;  // NotFound when absent

  // Schema blobs by fingerprint. PutSchema: OK when stored or already there with the same
  // bytes; Corruption when the bucket holds other bytes for that fingerprint.
  virtual Status PutSchema(std::uint64_t fingerprint, std::span<const std::byte> blob) = 0;
  virtual Result<std::vector<std::byte>> GetSchema(std::uint64_t fingerprint) = 0;

  // Asynchronous publish; the outcome comes back through PollAcks with the same token.
  // expected_last_seq / expected_last_msg_id (0 / "": none): the stream's last message must
  // be that one, else kWrongLastSequence (JetStream 10071 / 10070). Both, because pipelined
  // sequence expectations alone let our i-th message land after i messages of another
  // writer; the previous message's msg-id cannot be matched by another writer's.
  // Unavailable when it cannot be sent now (closed connection, full window).
  virtual Status Publish(const std::string& msg_id, const MessageHeaders& headers, std::span<const std::byte> bytes,
                         std::uint64_t expected_last_seq, const std::string& expected_last_msg_id,
                         std::uint64_t token) = 0;
  // Appends the acks that arrived, waiting up to timeout_ns for the first one.
  virtual void PollAcks(std::vector<PublishAck>* out, std::int64_t timeout_ns) = 0;
  // Forgets every publish in flight (also the ones the client would never time out); acks
  // for them may still arrive later and are to be ignored by token.
  virtual void AbandonInFlight() = 0;
  // Called (from the client's thread) after each ack becomes ready for PollAcks, so that an
  // owner sleeping elsewhere (the replicator, also woken by commits) wakes for it. Set before
  // the first Publish. The default never calls it: the owner then polls with a timeout.
  virtual void SetAckWake(std::function<void()> wake) { (void)wake; }

  // Ordered delivery from start_seq on; Next returns TimedOut when nothing came in time.
  virtual Status Subscribe(std::uint64_t start_seq) = 0;
  virtual Result<ShippedMessage> Next(std::int64_t timeout_ns) = 0;
};

}  // namespace rill::replication
