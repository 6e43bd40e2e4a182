// rill/engine/command_outcome.h: what a command's submitter gets back: accepted (the journal
// position of its last event and the stream's new version) or rejected (a reason code, the
// domain's own reason number and a message).
//
//   rill::engine::CommandOutcome o = engine.execute(cmd);
//   if (o.accepted()) std::printf("at %llu, version %llu\n", o.position(), o.stream_version());
//   else if (o.rejection().code == rill::engine::RejectCode::kConcurrencyConflict)
//     retry_after_reading(o.rejection().actual_version);
//   else std::printf("%s: %s\n", RejectCodeName(o.rejection().code), o.rejection().message().data());
//
// Rejections are values, built without allocating: the message lives in a fixed buffer
// (truncated to fit). Thread safety: plain values.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace rill::engine {

// Why a command was refused. The engine's codes come first; a domain says which of its own
// rules failed with Rejection::domain_code (its own enum, 0 = none).
enum class RejectCode : std::uint8_t {
  kNone = 0,                  // not a rejection
  kRuleViolated,              // a business rule of the domain (overdraft, publish twice, ...)
  kNotFound,                  // an aggregate the command needs does not exist
  kAlreadyExists,             // the command creates an aggregate whose id is taken
  kConcurrencyConflict,       // the expected stream version is not the actual one
  kDuplicateCommandMismatch,  // the command id was used before with another payload
  kJournalUnavailable,        // the journal refused the events (disk full, I/O error)
  kShutdown,                  // the engine stopped before deciding the command
  kInvalidCommand,            // malformed regardless of state (amount <= 0, a field too large)
  kInternalError,             // a bug in a domain: e.g. decide emitted more than kMaxEvents events
  // NOT a refusal: the command was journaled (position() and stream_version() are set), but the
  // read model named by its applied(view) acknowledgement halted or closed before applying it.
  // Do not resubmit it as a new command (a retry with the same command id gets this outcome's
  // original, accepted form from the idempotency window).
  kViewUnavailable,
  // The replicated log cannot take more from this writer now: the unreplicated tail reached
  // EngineOptions::max_replication_lag (retry once replication catches up), or the replicator
  // stopped for good (fenced by another writer: send commands to the new one). With
  // AckLevel::kReplicated after a decision it also means "journaled here, NOT confirmed
  // replicated": the events may yet be replicated, or moved aside if another writer took over.
  kReplicationUnavailable,
};

constexpr const char* RejectCodeName(RejectCode code) noexcept {
  switch (code) {
    case RejectCode::kNone:
      return "none";
    case RejectCode::kRuleViolated:
      return "rule violated";
    case RejectCode::kNotFound:
      return "not found";
    case RejectCode::kAlreadyExists:
      return "already exists";
    case RejectCode::kConcurrencyConflict:
      return "concurrency conflict";
    case RejectCode::kDuplicateCommandMismatch:
      return "duplicate command id with another payload";
    case RejectCode::kJournalUnavailable:
      return "journal unavailable";
    case RejectCode::kShutdown:
      return "shutdown";
    case RejectCode::kInvalidCommand:
      return "invalid command";
    case RejectCode::kInternalError:
      return "internal error";
    case RejectCode::kViewUnavailable:
      return "journaled, but the view is unavailable";
    case RejectCode::kReplicationUnavailable:
      return "replication unavailable";
  }
  return "unknown";
}

// 128 bytes: small enough to return by value on the (cold) rejection path, large enough for a
// message that names the numbers involved ("balance 100 is less than 250").
class Rejection {
 public:
  static constexpr std::size_t kMessageCapacity = 112;  // including the terminating NUL

  Rejection() noexcept { message_[0] = '\0'; }
  Rejection(RejectCode code, std::uint32_t domain_code, std::string_view message) noexcept
      : code(code), domain_code(domain_code) {
    const std::size_t n = message.size() < kMessageCapacity ? message.size() : kMessageCapacity - 1;
    std::memcpy(message_, message.data(), n);
    message_[n] = '\0';
  }
  // printf-style message, truncated to fit. Cold path only (vsnprintf is ~100 ns).
  [[gnu::format(printf, 3, 4)]] static Rejection Format(RejectCode code, std::uint32_t domain_code, const char* fmt,
                                                        ...) noexcept {
    Rejection r;
    r.code = code;
    r.domain_code = domain_code;
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(r.message_, kMessageCapacity, fmt, args);
    va_end(args);
    return r;
  }

  std::string_view message() const noexcept { return {message_}; }
  const char* c_str() const noexcept { return message_; }

  RejectCode code = RejectCode::kNone;
  std::uint32_t domain_code = 0;  // the domain's reason enum, 0 when the engine rejected
  // kConcurrencyConflict: the stream's actual version (0 = the stream does not exist).
  std::uint64_t actual_version = 0;

 private:
  char message_[kMessageCapacity];
};
static_assert(sizeof(Rejection) == 128);
static_assert(std::is_trivially_copyable_v<Rejection>);

class CommandOutcome {
 public:
  // An accepted command. position: the journal position of its last event (0 when it recorded
  // none); stream_id / stream_version: its first event's stream and that stream's version after
  // the command (the stream the expected-version check is about).
  static CommandOutcome Accepted(std::uint64_t position, std::uint64_t stream_id, std::uint64_t stream_version,
                                 std::uint32_t event_count) noexcept {
    CommandOutcome o;
    o.position_ = position;
    o.stream_id_ = stream_id;
    o.stream_version_ = stream_version;
    o.event_count_ = event_count;
    return o;
  }
  static CommandOutcome Rejected(const Rejection& r) noexcept {
    CommandOutcome o;
    o.rejection_ = r;
    return o;
  }

  // An accepted command whose applied(view) acknowledgement cannot be given: keeps the
  // position and stream version (the events are journaled) and carries kViewUnavailable.
  static CommandOutcome ViewUnavailable(const CommandOutcome& journaled, const Rejection& r) noexcept {
    CommandOutcome o = journaled;
    o.rejection_ = r;
    o.rejection_.code = RejectCode::kViewUnavailable;
    return o;
  }

  bool accepted() const noexcept { return rejection_.code == RejectCode::kNone; }
  // True when the command's events were recorded: accepted(), or kViewUnavailable.
  bool recorded() const noexcept { return accepted() || rejection_.code == RejectCode::kViewUnavailable; }
  // True when the command id had been processed before and this is the original outcome,
  // returned without applying the command again.
  bool duplicate() const noexcept { return duplicate_; }
  void set_duplicate(bool d) noexcept { duplicate_ = d; }

  std::uint64_t position() const noexcept { return position_; }
  std::uint64_t stream_id() const noexcept { return stream_id_; }
  std::uint64_t stream_version() const noexcept { return stream_version_; }
  std::uint32_t event_count() const noexcept { return event_count_; }
  // REQUIRES: !accepted().
  const Rejection& rejection() const noexcept { return rejection_; }
  RejectCode code() const noexcept { return rejection_.code; }

 private:
  std::uint64_t position_ = 0;
  std::uint64_t stream_id_ = 0;
  std::uint64_t stream_version_ = 0;
  std::uint32_t event_count_ = 0;
  bool duplicate_ = false;
  Rejection rejection_;
};
static_assert(std::is_trivially_copyable_v<CommandOutcome>);

}  // namespace rill::engine
