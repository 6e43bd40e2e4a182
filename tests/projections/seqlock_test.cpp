// Tests of projections/seqlock.h, deterministic and on one thread: a read is refused while a
// write is open (odd sequence) and accepted once it is closed; a read whose sequence changed
// while it copied the words is refused, for TryRead (a write forced into the middle of the copy
// by a page fault) and for ReadWith (a write from inside the read callback). The concurrent
// side is in tests/stress/projection_reads_stress_test.cpp, but on 2 cores it seldom hits these
// windows, so a removed check would go unnoticed there.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <new>

#include "rill/projections/seqlock.h"

using rill::projections::Seqlocked;
using rill::projections::SeqlockWords;

namespace {

using Cell = SeqlockWords<3>;

void WriteAll(Cell& c, std::uint64_t a, std::uint64_t b, std::uint64_t d) {
  c.BeginWrite();
  c.WriteWord(0, a);
  c.WriteWord(1, b);
  c.WriteWord(2, d);
  c.EndWrite();
}

using Words = std::array<std::uint64_t, 3>;

}  // namespace

TEST_CASE("seqlock: TryRead refuses a record while its write is open (odd sequence)", "[seqlock]") {
  Cell cell;
  WriteAll(cell, 1, 2, 3);
  Words out{};
  REQUIRE(cell.TryRead(out.data()));
  CHECK(out == Words{1, 2, 3});
  CHECK(cell.writes() == 1);

  cell.BeginWrite();  // the sequence is odd from here to EndWrite
  out = {};
  CHECK_FALSE(cell.TryRead(out.data()));  // opened, nothing written yet
  cell.WriteWord(0, 10);                  // half written: words {10, 2, 3} are torn
  CHECK_FALSE(cell.TryRead(out.data()));
  cell.WriteWord(1, 20);
  cell.WriteWord(2, 30);
  CHECK_FALSE(cell.TryRead(out.data()));  // every word written, but the write is still open
  CHECK(cell.writes() == 1);

  cell.EndWrite();
  out = {};
  REQUIRE(cell.TryRead(out.data()));
  CHECK(out == Words{10, 20, 30});
  CHECK(cell.writes() == 2);
}

TEST_CASE("seqlock: a write opened and closed inside ReadWith's callback makes it read again", "[seqlock]") {
  Cell cell;
  WriteAll(cell, 1, 2, 3);
  int runs = 0;
  Words got{};
  cell.ReadWith([&](const Cell& c) {
    ++runs;
    got[0] = c.LoadWord(0);
    if (runs == 1) WriteAll(cell, 10, 20, 30);  // the sequence changes under this first read
    got[1] = c.LoadWord(1);
    got[2] = c.LoadWord(2);
  });
  CHECK(runs == 2);  // the first (torn: {1, 20, 30}) attempt was thrown away
  CHECK(got == Words{10, 20, 30});
}

// TryRead copies all words between its two loads of the sequence, with no callback to hook, so
// the test places the record across a page boundary (sequence and word 0 on a readable page,
// words 1 and 2 on a PROT_NONE page): the copy faults at word 1, and the SIGSEGV handler makes
// the page accessible and runs a complete write before the load is retried. The copy is then
// torn (old word 0, new words 1 and 2), and only the second sequence load can tell.
namespace {

Cell* g_cell = nullptr;
char* g_guard_page = nullptr;
long g_page_size = 0;
int g_faults = 0;
struct sigaction g_previous {};

void OnFault(int sig, siginfo_t* info, void* ctx) {
  char* addr = static_cast<char*>(info->si_addr);
  if (g_guard_page == nullptr || addr < g_guard_page || addr >= g_guard_page + g_page_size) {
    // Not ours: put the previous handler back and let the retried access reach it.
    ::sigaction(SIGSEGV, &g_previous, nullptr);
    (void)sig;
    (void)ctx;
    return;
  }
  ++g_faults;
  ::mprotect(g_guard_page, static_cast<std::size_t>(g_page_size), PROT_READ | PROT_WRITE);
  WriteAll(*g_cell, 10, 20, 30);
}

}  // namespace

TEST_CASE("seqlock: TryRead refuses a copy during which the sequence changed", "[seqlock]") {
  static_assert(sizeof(Cell) == 32 && alignof(Cell) == 8, "layout assumed below: sequence, then 3 words");
  g_page_size = ::sysconf(_SC_PAGESIZE);
  REQUIRE(g_page_size > 0);
  const auto page = static_cast<std::size_t>(g_page_size);
  void* mem = ::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(mem != MAP_FAILED);
  char* base = static_cast<char*>(mem);
  // The sequence at page end - 16, word 0 at page end - 8, words 1 and 2 on the next page.
  Cell* cell = new (base + page - 16) Cell;
  REQUIRE(reinterpret_cast<char*>(cell) + 16 == base + page);
  WriteAll(*cell, 1, 2, 3);
  Words out{};
  REQUIRE(cell->TryRead(out.data()));
  REQUIRE(out == Words{1, 2, 3});

  g_cell = cell;
  g_guard_page = base + page;
  g_faults = 0;
  struct sigaction sa {};
  sa.sa_sigaction = OnFault;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  REQUIRE(::sigaction(SIGSEGV, &sa, &g_previous) == 0);
  REQUIRE(::mprotect(g_guard_page, page, PROT_NONE) == 0);

  out = {};
  const bool accepted = cell->TryRead(out.data());

  ::sigaction(SIGSEGV, &g_previous, nullptr);
  g_guard_page = nullptr;
  g_cell = nullptr;
  REQUIRE(g_faults == 1);          // the write did land in the middle of the copy
  CHECK(out == Words{1, 20, 30});  // so the copy is torn
  CHECK_FALSE(accepted);           // and TryRead must not keep it
  out = {};
  REQUIRE(cell->TryRead(out.data()));  // the next attempt sees the whole new record
  CHECK(out == Words{10, 20, 30});
  cell->~Cell();
  ::munmap(mem, 2 * page);
}

TEST_CASE("seqlock: Seqlocked<T> stores and loads whole values", "[seqlock]") {
  struct Balance {
    std::int64_t amount;
    std::uint64_t version;
    std::uint32_t flags;
  };
  Seqlocked<Balance> cell;
  static_assert(Seqlocked<Balance>::kWords == 3);
  cell.Store(Balance{.amount = -5, .version = 7, .flags = 9});
  const Balance b = cell.Load();
  CHECK(b.amount == -5);
  CHECK(b.version == 7);
  CHECK(b.flags == 9);
  const Balance own = cell.OwnValue();
  CHECK(std::memcmp(&own, &b, sizeof b) == 0);
}
