// rill/base/futex.h: sleep until a 32-bit word changes, and wake sleepers, without a lock.
//
//   // waiter                                        // waker
//   while (word.load(acquire) == seen)               word.store(new, release);
//     rill::FutexWait(word, seen, deadline_ns);      rill::FutexWakeAll(word);
//
// Wraps Linux futex(2). `Scope::kShared` works on a word in a MAP_SHARED mapping, so a
// tailer in another process can sleep on the journal's control file; `kPrivate` is cheaper
// within one process. Spurious wake-ups happen: callers always re-check their condition.
// Thread safety: every function may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace rill {

enum class FutexScope : unsigned char { kPrivate, kShared };

enum class FutexWaitResult : unsigned char {
  kWoken,     // woken, or the word no longer held `expected` on entry, or interrupted
  kTimedOut,  // the timeout passed
};

// Sleeps while word == expected, for at most timeout_ns (negative: no limit).
FutexWaitResult FutexWait(const std::atomic<std::uint32_t>& word, std::uint32_t expected, std::int64_t timeout_ns,
                          FutexScope scope = FutexScope::kPrivate) noexcept;

// Wakes up to `count` / all threads sleeping on word. Returns how many were woken.
int FutexWake(const std::atomic<std::uint32_t>& word, int count, FutexScope scope = FutexScope::kPrivate) noexcept;
inline int FutexWakeAll(const std::atomic<std::uint32_t>& word, FutexScope scope = FutexScope::kPrivate) noexcept {
  return FutexWake(word, 0x7fffffff, scope);
}

static_assert(sizeof(std::atomic<std::uint32_t>) == 4 && std::atomic<std::uint32_t>::is_always_lock_free,
              "futex needs a plain lock-free 32-bit word");

}  // namespace rill
