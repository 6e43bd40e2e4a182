// rill/replication/replicator.h: ships a local journal to its JetStream stream, exactly once,
// on its own thread (SCALE-OUT.md 3a). It follows the journal like a projector (a
// cross-process JournalReader woken by the writer's futex), coalesces consecutive committed
// batches into messages (message_format.h), and keeps `window` of them in flight with the
// stream's expected last sequence pipelined. The engine reads replicated_position() to
// acknowledge at AckLevel::kReplicated.
//
//   ReplicatorOptions o{.journal_directory = dir, .nats_urls = urls, .app = "bank", .shard = "0"};
//   auto rep = rill::replication::Replicator::Start(o);   // error: bad options, no journal
//   if (!rep.ok()) return rep.status();
//   engine_options.replication = rep->get();              // a ReplicationProgress
//   ...
//   (*rep)->Stop();
//
// Exactly once: at start and after any error or ack timeout, everything in flight is
// abandoned, the stream's last message says where to go on (Rill-First-Position + Rill-Count),
// and its bytes must equal the local journal's there; the same positions are always sent
// with the same msg-id and, within a process, with the same message boundaries. A stream that
// ends with a FENCE (message_format.h: the zero-record message a Node stores when it becomes the
// writer) is where the replicator of that fence's epoch starts (the data message before it must
// equal this journal); a fence of any other epoch means another writer took over: fenced. A
// fence stored while this replicator ships makes its next publish refused: fenced. Final errors
// (final_error(), the thread stops): FailedPrecondition "fenced: ..." when the stream holds
// positions beyond this journal or other bytes at them, or a wrong-last-sequence refusal of
// the oldest publish in flight (another writer appended); Corruption when a duplicate's
// stored bytes differ from ours; InvalidArgument for a batch larger than the stream's
// max_msg_size or a stream configured differently. Anything else (no responders during an
// election, a lost connection, a lost ack) is retried with backoff: status() says
// "retrying: <why>".
//
// Thread safety: Start/Stop/the destructor from the owner; the getters from any thread. The
// wake function runs on the replicator's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "rill/base/result.h"
#include "rill/engine/replication_progress.h"
#include "rill/replication/replication_options.h"
#include "rill/replication/stream_port.h"

namespace rill::replication {

struct ReplicatorStats {
  std::uint64_t messages = 0, bytes = 0;  // acked by the stream (duplicates included)
  std::uint64_t duplicates = 0;           // acks that said the msg-id was already stored
  std::uint64_t resyncs = 0;              // starts included
  std::uint64_t replicated_position = 0, committed_position = 0;
  std::uint64_t lag_positions = 0;
  double lag_seconds = 0;      // now - timestamp of the oldest batch not yet replicated
  std::uint64_t last_seq = 0;  // the stream sequence of the last acked message
  std::string state;           // "starting", "shipping", "retrying: <why>", "stopped: <why>"
  std::string last_error;      // the last error seen, transient or final ("" if none)
};

class Replicator final : public engine::ReplicationProgress {
 public:
  // Over NATS (nats_stream_port.h). InvalidArgument for bad options. A journal that does not
  // exist yet (the engine that will write it is handed this replicator before it opens) is
  // waited for: stats().state says "waiting for the journal at DIR: <why>" meanwhile.
  static Result<std::unique_ptr<Replicator>> Start(const ReplicatorOptions& options);
  // Over any stream (tests: an in-memory one).
  static Result<std::unique_ptr<Replicator>> Start(const ReplicatorOptions& options, std::unique_ptr<StreamPort> port);
  ~Replicator() override;  // Stop()
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  // Stops the thread; what is in flight may or may not be stored (a restart resyncs).
  void Stop();

  // engine::ReplicationProgress.
  std::uint64_t replicated_position() const noexcept override;
  void SetWake(std::function<void()> wake) override;
  Status final_error() const override;
  void OnCommitted() noexcept override;

  ReplicatorStats stats() const;
  std::string status() const;  // stats().state
  // OK once replicated_position() >= position; the final error; or TimedOut.
  Status WaitReplicated(std::uint64_t position, std::int64_t timeout_ns) const;

  class Impl;

 private:
  explicit Replicator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rill::replication
