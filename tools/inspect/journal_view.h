// rill/tools/inspect/journal_view.h: what every `rill inspect` subcommand shares: the exit
// codes and the one-line error, ISO-8601 times and --from/--to bounds, and a read-only view of
// a journal that walks its events decoded from the schema embedded in each segment.
//
//   auto view = JournalView::Open(dir, stderr);          // nullptr: error printed, exit 3
//   if (!view) return kExitCannotRead;
//   return view->ForEach(filter, {}, stderr, [&](const Event& e) { Print(e); });
//
// The view never takes the writer's lock: it maps segments read-only (journal_reader.h), so it
// runs beside a live writer in another process.
// Thread safety: one thread per JournalView.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "rill/base/result.h"
#include "rill/codecs/decoder.h"
#include "rill/codecs/json.h"
#include "rill/codecs/schema_registry.h"
#include "rill/journal/journal_reader.h"
#include "rill/tools/inspect/stream_key.h"

namespace rill::tools::inspect {

// The exit codes of every subcommand (tools/README.md).
enum ExitCode : int {
  kExitOk = 0,          // done; verify: the journal is intact
  kExitProblems = 1,    // the journal was read and problems were found (corrupt frame, undecodable event)
  kExitUsage = 2,       // bad arguments
  kExitCannotRead = 3,  // the input cannot be opened as a journal, or its schema cannot be loaded
};

// Prints "rill inspect: <what> (<where>): <what to do>" as one line.
void PrintError(std::FILE* err, std::string_view what, std::string_view where, std::string_view todo);

// The journal's verdict as every tool applies it before reading (journal_verifier.h): kExitOk
// (intact, torn tail, or empty: then *empty), kExitProblems after printing the damage (the
// caller may still read what it can), kExitCannotRead after printing why.
int AssessJournal(const std::string& dir, std::FILE* err, bool* empty, const char* tool);  // tool: "replay"

// False after printing the error when `dir` is missing or not a directory (exit code 3).
bool CheckJournalDirectory(const std::string& dir, std::FILE* err);

// "2026-11-23T01:02:03Z", with a fraction only when there is one (".250Z", ".000001Z").
std::string FormatTime(std::int64_t unix_ns);
// ISO-8601: "2026-11-23", "2026-11-23T01:02:03", up to 9 fraction digits, "Z" or an offset
// ("+02:00", "-0500"; at most +-18:00, minutes 00-59); no offset means UTC. The date and time
// must exist: day within its month (leap years counted), hour 00-23, minute and second 00-59
// (no leap second: journal times are Unix time), and within int64 nanoseconds (1677..2262).
// InvalidArgument, saying which field is wrong, otherwise.
Result<std::int64_t> ParseTime(std::string_view text);

// A --from/--to bound: a plain integer is a position (1 or more), anything else an ISO-8601 time.
struct Bound {
  enum class Kind : std::uint8_t { kNone, kPosition, kTime };
  Kind kind = Kind::kNone;
  std::uint64_t position = 0;
  std::int64_t time_ns = 0;
};
Result<Bound> ParseBound(std::string_view text);  // "" gives Kind::kNone

// "the journal holds positions 1-8, 2026-11-23T01:02:03Z .. 2026-11-23T01:02:06.500Z" (or "...
// holds no events yet"), for errors about a bound outside the journal. Scans every segment's
// batch frames: for error paths.
std::string DescribeJournalRange(const journal::JournalReader& reader);

// Decoding state for one schema (fingerprint): a registry rebuilt from the journal's blob.
struct Codec {
  explicit Codec(codecs::SchemaRegistry r) : registry(std::move(r)), decoder(registry), printer(registry) {}
  codecs::SchemaRegistry registry;
  codecs::Decoder decoder;
  codecs::JsonPrinter printer;
};

// Codecs by schema fingerprint, each rebuilt once from a segment's embedded blob.
class SchemaCache {
 public:
  // nullptr when the segment has no schema (an empty blob and fingerprint 0: records are shown
  // raw). Corruption when the blob is garbled or does not match its fingerprint.
  Result<Codec*> For(std::uint64_t fingerprint, std::span<const std::byte> blob);

 private:
  std::map<std::uint64_t, std::unique_ptr<Codec>> codecs_;
};

// One record as the view hands it out. Valid during the callback only.
struct Event {
  const journal::Record* record = nullptr;
  Codec* codec = nullptr;                         // nullptr: the segment has no schema (raw records)
  const codecs::DecodedEvent* decoded = nullptr;  // nullptr: raw, or undecodable (then decode_error)
  Status decode_error;
  std::string_view type_name;  // the registered name; "" when raw or undecodable
  // A record the engine wrote that is not an event (its type is not engine::kEventRecordType,
  // e.g. a digest record): never decoded and never a problem; decoded is nullptr.
  bool other = false;
};

// Whether a record in a segment with a schema holds an event: engine::kEventRecordType, or 0, the
// journal's untyped default that writers before typed records (and the tests' EventWriter) use.
// Anything else (a digest, engine::kDigestRecordType) is Event::other.
bool IsEventRecordType(std::uint16_t type);

// The digest fields of a record, when it is a well-formed engine::kDigestRecordType record.
struct DigestFields {
  std::uint64_t digest = 0;
  std::uint64_t covers_position = 0;
};
std::optional<DigestFields> ReadDigest(const journal::Record& r);

struct EventFilter {
  Bound from, to;                        // inclusive
  std::optional<StreamSelector> stream;  // --stream ID or KIND:ID
  std::string type;                      // a registered name ("bank.Deposited") or root table; "" = any
  std::uint64_t limit = 0;               // 0 = no limit; also ends --follow
};

struct FollowOptions {
  bool follow = false;        // at the end, wait for the writer's next commit
  double idle_timeout_s = 0;  // > 0: stop following after this long without a new event
};

// Makes a following ForEach return (from a signal handler: async-signal-safe).
void RequestStop() noexcept;
// SIGINT and SIGTERM call RequestStop (for --follow).
void StopOnSignals();

class JournalView {
 public:
  // nullptr after printing the error: missing directory, no segments, an unreadable first
  // segment, or a schema that cannot be loaded (all exit code 3).
  // *exit_code (when given) is what the caller returns on nullptr: kExitOk for an empty
  // journal (said on `err`), kExitProblems or kExitCannotRead. A view of a damaged journal is
  // still returned, the damage printed once: ForEach then returns at least kExitProblems.
  static std::unique_ptr<JournalView> Open(const std::string& dir, std::FILE* err, int* exit_code = nullptr);

  journal::JournalReader& reader() { return *reader_; }
  const std::string& dir() const { return dir_; }
  SchemaCache& schemas() { return schemas_; }

  using EventFn = std::function<void(const Event&)>;
  // Calls fn for every event that passes the filter, in position order; records that are not
  // events (Event::other) are handed out too when no --stream/--type filter is set. Returns kExitOk,
  // kExitProblems (a read error, printed; or undecodable events, handed to fn), kExitUsage (a
  // range that cannot meet the journal: --from > --to, a --from after its last event unless
  // following, a --to before its first; the error says what the journal holds) or
  // kExitCannotRead (a later segment's schema cannot be loaded). A --from before the start or a
  // --to after the end clamps.
  int ForEach(const EventFilter& filter, const FollowOptions& follow, std::FILE* err, const EventFn& fn);

 private:
  JournalView() = default;
  std::string dir_;
  std::unique_ptr<journal::JournalReader> reader_;
  SchemaCache schemas_;
  int verdict_exit_ = kExitOk;  // kExitProblems when the journal's verdict is damage
};

}  // namespace rill::tools::inspect
