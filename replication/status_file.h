// rill/replication/status_file.h: `<journal dir>/replication.status`, the replicator's state as
// a small text file, so replication lag can be read from outside the process (`rill inspect
// info`, a monitoring script) without NATS. The Replicator writes it at most every 100 ms and
// when it stops (replicator.cpp); this library has no NATS dependency (rill::replication_status).
//
//   rill-replication-status 1
//   pid: 4242
//   stream: RILL_bank_0
//   urls: nats://10.0.0.1:4222,nats://10.0.0.2:4222
//   epoch: 1
//   state: shipping
//   replicated position: 1200
//   committed position: 1250
//   lag positions: 50
//   lag seconds: 0.012
//   last stream seq: 310
//   messages: 310
//   bytes: 1048576
//   duplicates: 0
//   resyncs: 1
//   last error:
//   updated: 1795395724000000000          (unix ns)
//
//   Result<ReplicationStatus> s = rill::replication::ReadReplicationStatus(dir);
//   if (s.ok()) printf("lag %llu positions, %s\n", s->lag_positions, StatusWriterAlive(*s) ? "alive" : "dead");
//
// Format: the first line names the format and its version; then "key: value" lines, the value
// being the rest of the line. Values never hold a line break (the writer replaces control
// characters by spaces) and URLs lose any user:password@ part. Readers ignore keys they do not
// know (a later writer of version 1 may add some); a change that old readers would misread
// gets a new version. The file is replaced atomically (a temp file renamed over it; no fsync:
// it is advisory, and a crash leaves the previous or the new one, or none).
//
// The journal's own code only looks at its own names (segments, control, lock, `.seg.tmp`):
// recovery, verify and readers ignore this file (tests/replication/status_file_test.cpp).
//
// Thread safety: plain functions; concurrent readers see a whole file (rename).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rill/base/result.h"

namespace rill::replication {

inline constexpr std::string_view kStatusFileName = "replication.status";
inline constexpr std::string_view kStatusFileMagic = "rill-replication-status";
inline constexpr int kStatusFileVersion = 1;

struct ReplicationStatus {
  std::int64_t pid = 0;  // the replicator's process
  std::string stream;    // RILL_<app>_<shard>
  std::string urls;      // the NATS URLs, credentials removed
  std::uint64_t epoch = 0;
  std::string state;  // ReplicatorStats::state: "shipping", "retrying: <why>", "stopped: <why>", ...
  std::uint64_t replicated_position = 0, committed_position = 0, lag_positions = 0;
  double lag_seconds = 0;
  std::uint64_t last_seq = 0;  // the stream sequence of the last acked message
  std::uint64_t messages = 0, bytes = 0, duplicates = 0, resyncs = 0;
  std::string last_error;       // "" if none
  std::int64_t updated_ns = 0;  // unix ns (system clock) of this snapshot
};

// <dir>/replication.status
std::string StatusFilePath(std::string_view dir);

// The file's text, and its parser (`where` names the file in errors). Parse errors:
// Corruption naming the line ("line 4: ..."), or the missing key; InvalidArgument for a
// version other than kStatusFileVersion, saying which one this build reads.
std::string FormatReplicationStatus(const ReplicationStatus& s);
Result<ReplicationStatus> ParseReplicationStatus(std::string_view text, std::string_view where);

// Writes <dir>/replication.status through a temp file and a rename. IOError/NotFound on failure.
Status WriteReplicationStatus(std::string_view dir, const ReplicationStatus& s);
// NotFound when there is no file; the parse errors above; IOError when it cannot be read.
Result<ReplicationStatus> ReadReplicationStatus(std::string_view dir);

// Whether s.pid is a running process on this machine (kill(pid, 0); EPERM counts as running).
// A stale file whose pid was reused by another process reads as alive: compare `updated`.
bool StatusWriterAlive(const ReplicationStatus& s);

// "nats://user:pw@h:4222,tls://tok@h2" -> "nats://h:4222,tls://h2".
std::string RedactUrlCredentials(std::string_view urls);

}  // namespace rill::replication
