// rill/replication/replication_options.h: the knobs of the journal replicator (ships a local
// journal to a JetStream stream) and of the journal follower (writes a stream into a local
// journal). Names on the wire are in message_format.h; the design is SCALE-OUT.md 3a/3b.
//
//   rill::replication::ReplicatorOptions o;
//   o.journal_directory = "/var/lib/bank/journal";
//   o.nats_urls = "nats://10.0.0.1:4222,nats://10.0.0.2:4222";
//   o.app = "bank"; o.shard = "0"; o.epoch = lease.epoch;
//
// Thread safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "rill/journal/options.h"

namespace rill::replication {

struct ReplicatorOptions {
  std::string journal_directory;  // an existing journal (its writer may run in another process)
  std::string nats_urls;          // comma-separated
  std::string app, shard;         // [A-Za-z0-9_-]+: stream RILL_<app>_<shard>
  std::uint64_t epoch = 1;        // the writer's lease epoch, in Rill-Epoch and the msg-id
  // A message holds whole consecutive batches up to this many bytes; a single larger batch
  // travels alone, up to max_msg_size (else a configuration error, never split).
  std::size_t ship_max_bytes = 64u << 10;
  std::size_t window = 32;  // messages in flight
  // An unacked publish older than this: resync. It is the whole outage when only the acks'
  // route died (the server we are connected to, not the stream leader). A dead leader's
  // election takes longer (4-9 s), but publishes sent while the stream has no leader are
  // answered "no responders" at once: the timeout only covers the ones sent to the dead leader.
  std::int64_t ack_timeout_ns = 1'000'000'000;
  // Backoff after a transient error, doubling from min to max. During an election the resync's
  // stream info itself waits (ConnectOptions::read_timeout_ns), so the sleep between tries only
  // delays the first one after the election: kept short (a try costs one request).
  std::int64_t retry_min_ns = 50'000'000;
  std::int64_t retry_max_ns = 250'000'000;
  // Stream creation (create_stream = false: the stream must exist, e.g. made by an operator).
  bool create_stream = true;
  int replicas = 3;
  std::int64_t duplicate_window_ns = 120'000'000'000;  // >= the longest retry horizon
  std::size_t max_msg_size = 1u << 20;                 // the stream's MaxMsgSize
  std::string client_name;                             // NATS connection name ("" = rill-replicator-<app>-<shard>)
};

struct FollowerOptions {
  std::string directory;  // the local journal; created from the stream when missing
  std::string nats_urls;
  std::string app, shard;
  // For the local journal's writer (the rest of WriterOptions comes from the stream).
  std::size_t segment_size = 64u << 20;
  journal::Durability durability = journal::Durability::kNone;
  journal::SyncMethod sync_method = journal::SyncMethod::kMsync;
  std::uint32_t sync_interval_ms = 10;
  std::int64_t retry_min_ns = 50'000'000;
  std::int64_t retry_max_ns = 250'000'000;  // as the replicator's
  std::string client_name;                  // "" = rill-follower-<app>-<shard>
};

}  // namespace rill::replication
