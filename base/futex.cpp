#include "rill/base/futex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace rill {
namespace {

long Futex(const std::atomic<std::uint32_t>& word, int op, std::uint32_t val, const timespec* timeout) noexcept {
  // The kernel reads the word itself; the address of the atomic is the address of its value.
  return syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(&word), op, val, timeout, nullptr, 0);
}

int WithScope(int op, FutexScope scope) noexcept {
  return scope == FutexScope::kPrivate ? (op | FUTEX_PRIVATE_FLAG) : op;
}

}  // namespace

FutexWaitResult FutexWait(const std::atomic<std::uint32_t>& word, std::uint32_t expected, std::int64_t timeout_ns,
                          FutexScope scope) noexcept {
  timespec ts{};
  const timespec* timeout = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
    timeout = &ts;  // FUTEX_WAIT takes a relative timeout
  }
  if (Futex(word, WithScope(FUTEX_WAIT, scope), expected, timeout) == -1 && errno == ETIMEDOUT)
    return FutexWaitResult::kTimedOut;
  return FutexWaitResult::kWoken;  // EAGAIN (value changed) and EINTR count as woken: re-check
}

int FutexWake(const std::atomic<std::uint32_t>& word, int count, FutexScope scope) noexcept {
  const long woken = Futex(word, WithScope(FUTEX_WAKE, scope), static_cast<std::uint32_t>(count), nullptr);
  return woken < 0 ? 0 : static_cast<int>(woken);
}

}  // namespace rill
