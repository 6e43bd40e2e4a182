#include "rill/tests/support/allocation_counter.h"

#include <cstdlib>
#include <new>

// Every plain, array and nothrow form is replaced, so each pair stays malloc/free (ASan
// reports an alloc-dealloc mismatch otherwise); aligned forms are left alone, consistently.
// noinline keeps GCC from pairing malloc with an inlined delete and warning about it.
namespace {
thread_local long t_allocations = 0;
void* CountedMalloc(std::size_t n) noexcept {
  ++t_allocations;
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

long rill::test::ThreadAllocations() noexcept { return t_allocations; }

[[gnu::noinline]] void* operator new(std::size_t n) {
  if (void* p = CountedMalloc(n)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](std::size_t n) {
  if (void* p = CountedMalloc(n)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return CountedMalloc(n); }
[[gnu::noinline]] void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return CountedMalloc(n); }
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
