// rill/replication/follower.h: writes a replicated journal stream into a local rill journal,
// byte for byte, on its own thread (SCALE-OUT.md 3b). Projectors, `rill inspect` and
// `rill replay` then run on the local journal as on the writer's.
//
//   FollowerOptions o{.directory = "/var/lib/bank-view/journal", .nats_urls = urls,
//                     .app = "bank", .shard = "0"};
//   auto f = rill::replication::Follower::Start(o);
//   if (!f.ok()) return f.status();
//   (*f)->WaitApplied(position, 5'000'000'000);   // read-your-writes across machines
//
// Start: a missing journal is created from the stream (first position = its first message's
// Rill-First-Position; schema blob from the KV bucket by Rill-Schema); an existing one resumes
// after its committed position, at the message found by binary search over the stream's
// headers. Every message is validated whole (frames, CRCs, position chain, Rill-Count) before
// any of it is appended with JournalWriter::AppendBatch. Redelivered messages (entirely at or
// below the committed position) are skipped; a fence (Rill-Count 0, a new writer's first
// message) at the next position applies nothing. Final errors (final_error(); the thread stops):
// Corruption on a gap, on a partial overlap (except, right after (re)subscribing, an overlap
// at a batch boundary: a message half applied before a crash), on a damaged or foreign
// message; FailedPrecondition when this journal holds positions the stream does not. A new
// Rill-Schema reopens the local writer with that schema (a new segment). Connection trouble is
// retried with backoff and the subscription restarted after the last applied message.
//
// Thread safety: Start/Stop/the destructor from the owner; getters from any thread. The local
// journal's directory is locked by the follower's writer while it runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "rill/base/result.h"
#include "rill/replication/replication_options.h"
#include "rill/replication/stream_port.h"

namespace rill::replication {

struct FollowerStats {
  std::uint64_t messages = 0, batches = 0;  // applied
  std::uint64_t skipped_messages = 0;       // redelivered, already applied
  std::uint64_t fences = 0;                 // zero-record fence messages passed (message_format.h)
  std::uint64_t resubscribes = 0;           // starts included
  std::uint64_t last_seq = 0;               // the stream sequence of the last applied message
  std::uint64_t applied_position = 0;       // the local journal's committed position
  std::string state;                        // "starting", "following", "retrying: <why>", "stopped: <why>"
  std::string last_error;
};

class Follower {
 public:
  static Result<std::unique_ptr<Follower>> Start(const FollowerOptions& options);  // over NATS
  static Result<std::unique_ptr<Follower>> Start(const FollowerOptions& options, std::unique_ptr<StreamPort> port);
  ~Follower();  // Stop()
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  void Stop();  // closes the local journal's writer (the directory is free afterwards)

  // Last position written to the local journal (0 before it is open). Acquire.
  std::uint64_t applied_position() const noexcept;
  Status final_error() const;  // OK while following or retrying
  FollowerStats stats() const;
  // OK once applied_position() >= position; the final error; or TimedOut.
  Status WaitApplied(std::uint64_t position, std::int64_t timeout_ns) const;

  class Impl;

 private:
  explicit Follower(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rill::replication
