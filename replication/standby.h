// rill/replication/standby.h: a Node is a shard's writer or its warm standby, whichever the
// lease and the stream make it (SCALE-OUT.md 3c). The caller owns the writer (an Engine<D>)
// and hands the node two callbacks, so replication/ stays free of engine templates and of
// any domain:
//
//   rill::replication::NodeOptions o;
//   o.directory = "/var/lib/bank/journal"; o.nats_urls = urls; o.app = "bank"; o.shard = "0";
//   o.holder = "host-b";                                    // unique per node
//   o.open_writer = [&](const std::string& dir, rill::engine::ReplicationProgress* rep) -> rill::Status {
//     EngineOptions eo; eo.journal.directory = dir; eo.replication = rep;
//     auto e = Engine<BankDomain>::Open(eo);                  // replays the journal
//     if (!e.ok()) return e.status();
//     engine = std::move(e).value();  return rill::Status::OK();
//   };
//   o.close_writer = [&] { engine->Stop(); };               // before the replicator stops
//   auto node = rill::replication::Node::Start(o);
//   (*node)->WaitRole(NodeRole::kWriter, timeout);          // this node writes now
//
// Start reconciles the local journal with the stream first (below), then the node either
// writes or follows. As a STANDBY it runs a Follower on its journal directory and reads the
// lease every poll_interval; when the lease is free (the writer stopped renewing and the key
// expired) it takes over:
//   1. acquire the lease with epoch = the stream's last Rill-Epoch + 1 (1 on an empty stream:
//      the epoch comes from the stream, so an expired lease key loses nothing); renew it every
//      ttl/3 from now on;
//   2. store the FENCE (message_format.h): a zero-record message of the new epoch published
//      with the expected last sequence and msg-id of the stream's tail as just read. Once it
//      is stored, nobody can append before it, and any older writer still running (a zombie
//      whose lease lapsed) is refused at its next publish. Refused because someone appended
//      meanwhile: read the tail again and retry (bounded by catch_up_timeout); nothing of the
//      new epoch exists yet, so nothing is moved aside. An empty stream gets no fence;
//   3. wait until the follower applied every position before the fence; stop it; start a
//      Replicator with the new epoch (it starts after its own fence); open_writer(dir,
//      replicator) (the engine replays the journal: aggregates and the idempotency window are
//      exact, as after a restart).
// A restart in place stores its fence the same way, expecting the tail Reconcile compared (the
// stream moved since: reconcile again).
// Without on_standby this is a WARM standby: the takeover time includes that replay (snapshots
// bound it). With on_standby the caller keeps the aggregates hot while following
// (engine/hot_standby.h), and open_writer hands that state to the engine, which replays only
// what the state has not applied yet.
// As a WRITER it watches its replicator and its lease: fenced (another writer appended) or the
// lease lost, it calls close_writer, stops the replicator, reconciles and follows again.
//
// Reconciling (at Start and after losing the writer role): the local journal against the
// stream (reconcile.h).
//   - The stream ends at or before the local end with the same bytes there, and the lease is
//     free or names this holder: restart IN PLACE, with epoch = the stream's last epoch + 1
//     (every incarnation of a writer gets its own epoch; the replicator re-ships the local
//     tail: nothing lost).
//   - Otherwise (another epoch wrote, or another holder has the lease): the local tail after
//     the last batch equal to the stream is moved aside (journal::MoveTailAside, into
//     aside-<time>/; never re-shipped) and the node follows from there. reconciles() reports
//     what was moved.
// Safety does not rest on the lease: two nodes that both believe they write are told apart by
// the stream's expectations (the loser's replicator is fenced at its next publish).
//
// Thread safety: Start/Stop/the destructor from the owner; getters from any thread. The
// callbacks run on the node's control thread (open_writer before the role becomes kWriter,
// close_writer before the replicator stops).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rill/base/result.h"
#include "rill/engine/replication_progress.h"
#include "rill/replication/follower.h"
#include "rill/replication/lease.h"
#include "rill/replication/replication_options.h"
#include "rill/replication/replicator.h"

namespace rill::replication {

struct NodeOptions {
  std::string directory;  // the local journal (the writer's, or the follower's)
  std::string nats_urls;
  std::string app, shard;
  std::string holder;                                 // this node's lease name: unique, no spaces
  std::int64_t lease_ttl_ns = 3'000'000'000;          // the lease bucket's TTL
  std::int64_t poll_interval_ns = 100'000'000;        // a standby reads the lease this often
  std::int64_t catch_up_timeout_ns = 60'000'000'000;  // takeover step 2
  int replicas = 3;                                   // of the stream and the buckets
  // Templates: directory, urls, app, shard, epoch and replicas are set by the node.
  ReplicatorOptions replicator;
  FollowerOptions follower;
  // Opens the writer on `directory` with `replication` (valid until close_writer returns).
  std::function<Status(const std::string& directory, engine::ReplicationProgress* replication)> open_writer;
  std::function<void()> close_writer;  // stops it; the journal must be closed when it returns
  // Optional: called each time the node starts following (after reconciling, the follower
  // running on `directory`). A hot standby starts keeping its aggregates here, tailing the
  // journal; a state kept from an earlier standby period must be discarded (reconciling may
  // have moved that journal's tail aside). open_writer comes after the follower stopped.
  std::function<void(const std::string& directory)> on_standby;
};

enum class NodeRole : std::uint8_t { kStarting, kStandby, kWriter, kStopped };
const char* NodeRoleName(NodeRole r) noexcept;

struct ReconcileReport {
  bool in_place = false;                          // restarted in place: nothing moved
  std::uint64_t stream_end = 0;                   // the stream's last position then
  std::uint64_t local_end = 0;                    // the local journal's end before
  std::uint64_t kept_through = 0;                 // after
  std::uint64_t first_moved = 0, last_moved = 0;  // positions moved aside (0, 0: none)
  std::string aside_directory;                    // "" when nothing was moved
  std::string why;                                // one line
};

struct TakeoverReport {
  std::uint64_t epoch = 0;
  bool from_standby = false;         // false: restarted in place
  std::int64_t lease_free_ns = 0;    // steady clock: when the lease was seen free
  std::int64_t writer_open_ns = 0;   // steady clock: open_writer returned
  std::uint64_t stream_end = 0;      // the position the writer continues after (its fence's first - 1)
  std::uint32_t fence_attempts = 0;  // publishes of the fence (more than 1: someone appended meanwhile)
  std::string ended;  // why this writer period ended ("" while writing): "FailedPrecondition: fenced: ..."
};

class Node {
 public:
  // InvalidArgument for missing options; everything else happens on the control thread
  // (role(), final_error()).
  static Result<std::unique_ptr<Node>> Start(const NodeOptions& options);
  ~Node();  // Stop()
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Closes the writer (close_writer), stops the replicator or the follower and the lease's
  // renewal WITHOUT releasing it (the key expires after the TTL, as when the process dies).
  void Stop();

  NodeRole role() const;
  std::uint64_t epoch() const;  // the epoch this node writes with (0 as a standby)
  Status final_error() const;   // non-OK once the node gave up (role kStopped)
  std::string state() const;    // one line
  // OK once role() == role; the final error; TimedOut.
  Status WaitRole(NodeRole role, std::int64_t timeout_ns) const;
  std::vector<ReconcileReport> reconciles() const;
  std::vector<TakeoverReport> takeovers() const;
  // Test hook: keep writing but stop renewing the lease (a zombie writer).
  void PauseLeaseRenewalForTest();

  class Impl;

 private:
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rill::replication
