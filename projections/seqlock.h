// rill/projections/seqlock.h: one writer, any number of readers, no locks, no torn values.
//
//   rill::projections::Seqlocked<Balance> cell;           // T: trivially copyable
//   cell.Store(Balance{.amount = 100, .version = 1});    // the projector thread only
//   Balance b = cell.Load();                              // any thread; retries while written
//
// A per-record sequence lock (Boehm, "Can seqlocks get along with programming language memory
// models?", MSPC 2012, the "fences" variant). The writer makes the sequence odd, writes, and
// makes it even again; a reader copies the record between two reads of the sequence and keeps
// the copy only when both are the same even number. The writer never waits for readers.
//
// Every word of the record is a std::atomic<std::uint64_t> accessed with relaxed order, so the
// concurrent reads and writes are not data races (no UB, nothing for TSan to report), and the
// fences order them against the sequence. On x86-64 the relaxed loads and stores compile to
// plain moves, and both fences to nothing but a compiler barrier.
//
// Thread safety: Store/BeginWrite/WriteWord/EndWrite from one thread (the record's writer);
// Load/TryLoad from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace rill::projections {

// A sequence plus N words of payload. The building block: Seqlocked<T> and the read models'
// multi-field records use it directly, writing only the words that change.
template <std::size_t N>
class SeqlockWords {
 public:
  static constexpr std::size_t kWords = N;

  // Writer: opens a write. REQUIRES: no write open.
  void BeginWrite() noexcept {
    const std::uint64_t s = seq_.load(std::memory_order_relaxed);  // own value: only this thread writes it
    seq_.store(s + 1, std::memory_order_relaxed);
    // Release fence: the odd sequence becomes visible before any word written below, so a
    // reader that saw one of the new words also sees an odd (or newer) sequence.
    std::atomic_thread_fence(std::memory_order_release);
  }
  // Writer: relaxed; ordered by the fences of BeginWrite/EndWrite.
  void WriteWord(std::size_t i, std::uint64_t v) noexcept { words_[i].store(v, std::memory_order_relaxed); }
  // Writer: its own last value (only this thread writes, so relaxed reads its own stores).
  std::uint64_t OwnWord(std::size_t i) const noexcept { return words_[i].load(std::memory_order_relaxed); }
  // Writer: closes the write. Release: every word written happens-before a reader's acquire
  // load that sees the even sequence.
  void EndWrite() noexcept { seq_.store(seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  // Reader: copies the words into out; false when a write overlapped (the caller retries).
  bool TryRead(std::uint64_t* out) const noexcept {
    // Acquire: words written before the EndWrite that produced s1 are visible below.
    const std::uint64_t s1 = seq_.load(std::memory_order_acquire);
    if (s1 & 1) return false;
    for (std::size_t i = 0; i < N; ++i) out[i] = words_[i].load(std::memory_order_relaxed);
    // Acquire fence: the word loads above are ordered before the re-read of the sequence, so
    // if any of them saw a later write, s2 sees that write's odd (or later) sequence.
    std::atomic_thread_fence(std::memory_order_acquire);
    return seq_.load(std::memory_order_relaxed) == s1;
  }
  // Reader: spins until a consistent copy. The writer holds a record odd for a few stores only.
  void Read(std::uint64_t* out) const noexcept {
    while (!TryRead(out)) CpuRelax();
  }

  // Reader: runs read(*this) inside the seqlock until it ran without an overlapping write.
  // read calls LoadWord for just the words it needs (a ring's count, then only the slots asked
  // for). It may run more than once and may see inconsistent words on a failed attempt, so it
  // must only write to its own outputs and must stay in bounds whatever it reads.
  template <typename F>
  void ReadWith(F&& read) const {
    for (;;) {
      const std::uint64_t s1 = seq_.load(std::memory_order_acquire);  // as in TryRead
      if ((s1 & 1) == 0) {
        read(*this);
        std::atomic_thread_fence(std::memory_order_acquire);  // as in TryRead
        if (seq_.load(std::memory_order_relaxed) == s1) return;
      }
      CpuRelax();
    }
  }
  // Reader, inside ReadWith only: relaxed, ordered by ReadWith's fences.
  std::uint64_t LoadWord(std::size_t i) const noexcept { return words_[i].load(std::memory_order_relaxed); }

  // Number of completed writes (for tests).
  std::uint64_t writes() const noexcept { return seq_.load(std::memory_order_acquire) / 2; }

  static void CpuRelax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

 private:
  std::atomic<std::uint64_t> seq_{0};  // odd while a write is in progress
  std::array<std::atomic<std::uint64_t>, N> words_{};
};

// A whole trivially copyable value under one seqlock.
template <typename T>
class Seqlocked {
  static_assert(std::is_trivially_copyable_v<T>,
                "Seqlocked<T>: T is copied word by word, so must be trivially copyable");

 public:
  static constexpr std::size_t kWords = (sizeof(T) + 7) / 8;

  void Store(const T& value) noexcept {
    std::uint64_t w[kWords] = {};
    std::memcpy(w, &value, sizeof(T));
    cell_.BeginWrite();
    for (std::size_t i = 0; i < kWords; ++i) cell_.WriteWord(i, w[i]);
    cell_.EndWrite();
  }
  // Writer only: the value last stored, without the seqlock protocol.
  T OwnValue() const noexcept {
    std::uint64_t w[kWords];
    for (std::size_t i = 0; i < kWords; ++i) w[i] = cell_.OwnWord(i);
    T v;
    std::memcpy(&v, w, sizeof(T));
    return v;
  }
  T Load() const noexcept {
    std::uint64_t w[kWords];
    cell_.Read(w);
    T v;
    std::memcpy(&v, w, sizeof(T));
    return v;
  }

 private:
  SeqlockWords<kWords> cell_;
};

}  // namespace rill::projections
