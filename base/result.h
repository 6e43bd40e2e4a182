// rill/base/result.h: a value of type T, or the Status that explains why there is none.
//
//   rill::Result<std::unique_ptr<Journal>> r = Journal::Open(options);
//   if (!r.ok()) return r.status();
//   std::unique_ptr<Journal> journal = std::move(r).value();
//
// In the style of absl::StatusOr; C++23's std::expected is not available with clang 14's
// libstdc++ support (STYLE.md §4). Thread safety: a value type, like T.
#pragma once

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>

#include "rill/base/status.h"

namespace rill {

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Status>, "Result<Status> is meaningless: return Status");
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported: use Result<T*> or std::reference_wrapper");

 public:
  // REQUIRES: !status.ok(). A Result built from OK would hold neither a value nor an error.
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Result<T> constructed from an OK Status: return a value instead");
    if (status_.ok()) status_ = Status::InvalidArgument("Result constructed from OK status without a value");
  }
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return value_.has_value(); }
  const Status& status() const& noexcept { return status_; }
  Status status() && noexcept { return std::move(status_); }

  // REQUIRES: ok().
  T& value() & noexcept {
    assert(ok());
    return *value_;
  }
  const T& value() const& noexcept {
    assert(ok());
    return *value_;
  }
  T&& value() && noexcept {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & noexcept { return value(); }
  const T& operator*() const& noexcept { return value(); }
  T* operator->() noexcept { return &value(); }
  const T* operator->() const noexcept { return &value(); }

 private:
  Status status_;  // OK exactly when value_ holds a value
  std::optional<T> value_;
};

}  // namespace rill

// RILL_RETURN_IF_ERROR(expr): returns the Status of expr from the enclosing function when not OK.
#define RILL_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::rill::Status rill_status_ = (expr);        \
    if (!rill_status_.ok()) return rill_status_; \
  } while (0)
