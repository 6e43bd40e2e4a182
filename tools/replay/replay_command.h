// rill/tools/replay/replay_command.h: `rill replay DIR`: rebuilds a domain's aggregate state
// from a journal with the engine's own replay (verified decoding, Evolve), as of the end or of
// a position or time, checks the writer's digest records, and summarizes the state.
//
//   rill replay /var/lib/bank/journal                          # the state now, and how fast
//   rill replay /var/lib/bank/journal --until 2026-11-23T01:00:00Z --account 42
//   rill replay /var/lib/bank/journal --verify --json          # digests: exit 1 at the first mismatch
//
//   rill::tools::ReplaySummary s;
//   int exit = rill::tools::RunReplay({.dir = dir, .json = true}, stdout, stderr, &s);   // rill demo
//
// Exit codes (tools/README.md): 0 ok; 1 the journal is damaged (a corrupt frame, an event that
// does not decode or break a stream's versions) or --verify found a digest mismatch; 2 usage
// (bad --until, --domain or --account); 3 the input cannot be read (missing directory, not a
// journal, a schema this domain cannot read).
// Thread safety: RunReplay is reentrant.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "rill/engine/journal_replay.h"

namespace rill::tools {

struct ReplayOptions {
  std::string dir{};
  std::string domain = "bank";             // bank | blog
  std::string until{};                     // "" (the end), a position, or an ISO-8601 time
  bool verify = false;                     // a digest mismatch is exit 1 (otherwise it is reported only)
  bool json = false;                       // one JSON object on `out`
  std::optional<std::uint64_t> account{};  // bank: also print this account
  int progress = -1;                       // -1: a progress bar when `err` is a terminal; 0 never; 1 always
};

struct ReplaySummary {
  std::string domain;
  std::uint64_t records = 0, events = 0;  // read, applied
  std::uint64_t last_position = 0;        // the state is as of this position
  std::int64_t last_timestamp_ns = 0;
  bool stopped_inside_batch = false;  // --until cut a batch: a command may be half applied
  double seconds = 0, events_per_second = 0;
  std::uint64_t aggregates = 0;  // streams with at least one event
  std::uint64_t state_digest = 0;
  std::uint64_t digests_checked = 0;
  std::optional<engine::DigestMismatch> digest_mismatch;
  // bank
  std::uint64_t open_accounts = 0, closed_accounts = 0;
  std::int64_t total_balance = 0;  // minor units, all currencies together
  bool total_overflowed = false;
  std::optional<std::int64_t> account_balance;  // --account, when it exists
  std::uint64_t account_version = 0;
  bool account_closed = false;
  // blog
  std::uint64_t published_posts = 0, comments = 0;
};

// Returns the process exit code; fills *summary (when given) as far as the replay got.
int RunReplay(const ReplayOptions& options, std::FILE* out, std::FILE* err, ReplaySummary* summary = nullptr);

}  // namespace rill::tools
