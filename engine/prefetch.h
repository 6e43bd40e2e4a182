// rill/engine/prefetch.h: a software prefetch that the compiler cannot drop.
//
//   rill::engine::Prefetch(&slots_[home]);   // a few commands before the lookup needs it
//
// Why not plain __builtin_prefetch: GCC 12 at -O3 silently deleted it in the writer's lookahead
// (the address came from a table lookup; the call compiled to a bare `ret`), so the
// prefetching had no effect at all. An asm volatile statement is always emitted.
// Thread safety: a hint; reads nothing.
#pragma once

namespace rill::engine {

inline void Prefetch(const void* p) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

// For a line about to be written (prefetchw; a plain prefetch elsewhere): fetched in the
// exclusive state, so the store does not wait for a read-for-ownership.
inline void PrefetchForWrite(const void* p) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 1);
#endif
}

}  // namespace rill::engine
