// rill/base/status.h: the outcome of an operation at the edges (open, recover, rotate, tools).
//
//   rill::Status s = journal.Sync();
//   if (!s.ok()) { std::fprintf(stderr, "%s\n", s.ToString().c_str()); }
//   if (s.IsNoSpace()) { /* reject commands with a reason, keep serving queries */ }
//
// Hot paths return plain values or small enums; Status is for the cold edges. OK is a null
// pointer, so returning and testing OK costs a pointer compare and never allocates.
// Thread safety: a Status is a value; distinct objects may be used from distinct threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace rill {

class [[nodiscard]] Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound,            // a file, segment, position or key that does not exist
    kCorruption,          // data on disk or on the wire fails its checks
    kInvalidArgument,     // the caller asked for something impossible
    kIOError,             // the OS refused an I/O operation
    kNoSpace,             // the disk or file-size limit is full (ENOSPC, EFBIG)
    kBusy,                // held by someone else (the journal's writer lock)
    kUnavailable,         // the component stopped accepting work (journal failed, shut down)
    kTimedOut,            // a deadline passed first
    kFailedPrecondition,  // the world moved on: fenced by another writer, a compare-and-set lost
  };

  Status() noexcept = default;  // OK
  Status(const Status& other) : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}
  Status& operator=(const Status& other) {
    if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() noexcept { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status InvalidArgument(std::string_view msg) { return Status(Code::kInvalidArgument, msg); }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status NoSpace(std::string_view msg) { return Status(Code::kNoSpace, msg); }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg); }
  static Status Unavailable(std::string_view msg) { return Status(Code::kUnavailable, msg); }
  static Status TimedOut(std::string_view msg) { return Status(Code::kTimedOut, msg); }
  static Status FailedPrecondition(std::string_view msg) { return Status(Code::kFailedPrecondition, msg); }
  // An IOError or NoSpace from a failed system call: "<what>: <strerror(err)>".
  static Status FromErrno(std::string_view what, int err);

  bool ok() const noexcept { return rep_ == nullptr; }
  Code code() const noexcept { return rep_ ? rep_->code : Code::kOk; }
  bool IsNotFound() const noexcept { return code() == Code::kNotFound; }
  bool IsCorruption() const noexcept { return code() == Code::kCorruption; }
  bool IsInvalidArgument() const noexcept { return code() == Code::kInvalidArgument; }
  bool IsIOError() const noexcept { return code() == Code::kIOError; }
  bool IsNoSpace() const noexcept { return code() == Code::kNoSpace; }
  bool IsBusy() const noexcept { return code() == Code::kBusy; }
  bool IsUnavailable() const noexcept { return code() == Code::kUnavailable; }
  bool IsTimedOut() const noexcept { return code() == Code::kTimedOut; }
  bool IsFailedPrecondition() const noexcept { return code() == Code::kFailedPrecondition; }

  // The message alone ("" when OK).
  std::string_view message() const noexcept { return rep_ ? std::string_view(rep_->message) : ""; }
  // "OK", or "<code name>: <message>".
  std::string ToString() const;

  // Prefixes the message with context, e.g. s.WithContext("segment 00000003.seg").
  Status WithContext(std::string_view context) const;

 private:
  struct Rep {
    Code code;
    std::string message;
  };
  Status(Code code, std::string_view msg) : rep_(std::make_unique<Rep>(Rep{code, std::string(msg)})) {}

  std::unique_ptr<Rep> rep_;  // nullptr means OK
};

const char* CodeName(Status::Code code) noexcept;

}  // namespace rill
