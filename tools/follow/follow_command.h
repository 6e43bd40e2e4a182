// rill/tools/follow/follow_command.h: `rill follow DIR --nats URLS`, a journal follower as a
// process: it writes the writer's replicated stream into the local journal DIR, byte for byte
// (replication/follower.h), so `rill inspect`, `rill replay` and projector threads run on
// another machine exactly as on the writer's. It prints a status line every
// --status-interval seconds and runs until SIGINT/SIGTERM (or --seconds). A stream that does
// not exist yet, or NATS servers that do not answer, are waited for (a follower may start
// before its writer): the status line says "retrying: <why>".
//
//   rill follow /var/lib/bank-replica/journal --nats nats://10.0.0.1:4222 --app bank --shard 0
//
// Exit codes (tools/README.md): 0 stopped by a signal or --seconds; 1 the follower stopped
// for good (a gap, a damaged or foreign message, a local journal ahead of the stream: the
// message says which and what to do); 2 usage; 3 cannot start (the local journal is held by
// another writer or cannot be created).
// Thread safety: one call at a time (it handles SIGINT/SIGTERM for its duration).
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

namespace rill::tools {

struct FollowOptions {
  std::string dir;        // the local journal (created from the stream when missing)
  std::string nats_urls;  // comma-separated
  std::string app = "rill", shard = "0";
  std::size_t segment_size = std::size_t{64} << 20;
  std::string durability = "none";  // none | batch | interval (the local journal's syncs)
  double status_interval_s = 5.0;
  double seconds = 0;  // > 0: stop after this long (tests, scripts)
};

int RunFollow(const FollowOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rill::tools
