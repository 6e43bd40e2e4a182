// rill/tests/support/allocation_counter.h: count this thread's calls to operator new, to prove
// that a steady-state path allocates nothing.
//
//   const long before = rill::test::ThreadAllocations();
//   encoder.Encode(...);
//   CHECK(rill::test::ThreadAllocations() - before == 0);
//
// Linking rill_test_support replaces the global operator new/delete of the whole test
// executable (allocation_counter.cpp); every replaced form stays a malloc/free pair, so the
// sanitizers still see each allocation.
#pragma once

namespace rill::test {

// How many times this thread has called a plain, array or nothrow operator new.
long ThreadAllocations() noexcept;

}  // namespace rill::test
