// Fault injection (journal/io.h): each system call the journal makes that a real disk can fail
// (msync, fdatasync, directory fsync, posix_fallocate, ftruncate, rename, open-for-create,
// fsync) fails once at a chosen call, and the journal must (1) say so, naming the call and the
// file, (2) never report durable anything past the last successful sync, (3) never retry a
// failed sync and then claim durability (PostgreSQL's fsyncgate), (4) keep everything committed
// intact, so that (5) a new writer on the same directory, with the fault gone, recovers every
// position that was reported durable.
//
// No timing: the tests wait on the writer's own WaitDurable (which returns at the failure) or
// on FaultInjector::WaitInjected, never on a clock.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "journal_test_util.h"
#include "rill/journal/io.h"
#include "rill/journal/segment_dir.h"
#include "rill/journal/segment_file.h"

namespace rill::journal::test {
namespace {

using io::Call;
using io::FaultInjector;
using io::FaultRule;

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// msync and fdatasync calls on files whose path contains `file` (the "no retry" checks count
// them; the segment preparer's background calls are on other files).
std::uint64_t SyncCalls(const FaultInjector& f, const std::string& file) {
  return f.calls(Call::kMsync, file) + f.calls(Call::kFdatasync, file);
}

// Reopens the journal with no fault installed and checks that every position up to `durable`
// is there, gap-free and intact. Returns the reopened writer's committed position.
std::uint64_t ReopenAndCheck(const std::string& dir, std::uint64_t durable) {
  auto w = JournalWriter::Open(SmallOptions(dir));
  INFO(w.status().ToString());
  REQUIRE(w.ok());
  const std::uint64_t committed = (*w)->committed_position();
  CHECK(committed >= durable);
  REQUIRE((*w)->Close().ok());
  Status error;
  bool match = false;
  const std::vector<std::uint64_t> positions = ReadAll(dir, &error, &match);
  INFO(error.ToString());
  CHECK(error.ok());
  CHECK(match);
  CHECK(IsGapFree(positions));
  CHECK(positions.size() == committed);
  CHECK(positions.size() >= durable);
  return committed;
}

// on_durable's calls, from the syncer thread.
struct DurableLog {
  std::mutex mu;
  std::vector<std::uint64_t> positions;
  void Add(std::uint64_t p) {
    std::lock_guard<std::mutex> lock(mu);
    positions.push_back(p);
  }
  std::vector<std::uint64_t> Get() {
    std::lock_guard<std::mutex> lock(mu);
    return positions;
  }
};

struct SyncCase {
  Durability durability;
  SyncMethod method;
  Call call;
  int error;
};

}  // namespace

TEST_CASE("a failed segment sync stops durability at the last synced position, for good, and says why",
          "[journal][fault][durability]") {
  const SyncCase c = GENERATE(SyncCase{Durability::kBatch, SyncMethod::kMsync, Call::kMsync, EIO},
                              SyncCase{Durability::kBatch, SyncMethod::kMsync, Call::kMsync, ENOSPC},
                              SyncCase{Durability::kBatch, SyncMethod::kFdatasync, Call::kFdatasync, EIO},
                              SyncCase{Durability::kBatch, SyncMethod::kFdatasync, Call::kFdatasync, ENOSPC},
                              SyncCase{Durability::kInterval, SyncMethod::kMsync, Call::kMsync, EIO},
                              SyncCase{Durability::kInterval, SyncMethod::kFdatasync, Call::kFdatasync, ENOSPC});
  CAPTURE(io::CallName(c.call), c.error, static_cast<int>(c.durability));
  TempDir tmp("rill-fault");
  const std::string dir = tmp.Sub("j");
  DurableLog log;
  std::uint64_t synced = 0, unsynced = 0;
  {
    FaultInjector faults;
    WriterOptions o = SmallOptions(dir);
    o.durability = c.durability;
    o.sync_method = c.method;
    o.sync_interval_ms = 1;
    o.on_durable = [&](std::uint64_t p) { log.Add(p); };
    auto w = JournalWriter::Open(o);
    REQUIRE(w.ok());
    synced = AppendBatch(**w, 5);
    REQUIRE(synced == 5);
    REQUIRE((*w)->WaitDurable(synced, -1).ok());
    const std::size_t calls_before = log.Get().size();

    // The next sync of a segment fails once; the same call would succeed if tried again.
    // (Segment 0 only: with fdatasync the preparer syncs segment 1's file in the background.)
    faults.Add(FaultRule{.call = c.call, .path_contains = SegmentFileName(0), .nth = 1, .error = c.error, .times = 1});
    unsynced = AppendBatch(**w, 3);
    REQUIRE(unsynced == 8);
    // A second thread waiting for durability is released with the failure too.
    Status other_waiter;
    std::thread waiter([&] { other_waiter = (*w)->WaitDurable(unsynced, -1); });
    const Status s = (*w)->WaitDurable(unsynced, -1);
    waiter.join();
    INFO(s.ToString());
    REQUIRE_FALSE(s.ok());
    CHECK_FALSE(other_waiter.ok());
    CHECK(faults.injected() == 1);
    // What failed, where, and why: the call, the segment file, the errno's text.
    CHECK(Contains(s.message(), io::CallName(c.call)));
    CHECK(Contains(s.message(), dir + "/" + SegmentFileName(0)));
    CHECK(Contains(s.message(), std::strerror(c.error)));
    CHECK(s.code() == (c.error == ENOSPC ? Status::Code::kNoSpace : Status::Code::kIOError));

    // Durable stays exactly at the last successful sync: never past it.
    CHECK((*w)->durable_position() == synced);
    CHECK((*w)->committed_position() == unsynced);  // committed, readable, just not durable
    for (const std::uint64_t p : log.Get()) CHECK(p <= synced);

    // No retry, ever: not by Sync(), not by WaitDurable, not by Close; each says why instead.
    const std::uint64_t sync_calls = SyncCalls(faults, SegmentFileName(0));
    CHECK(Contains((*w)->status().message(), io::CallName(c.call)));
    const Status sync = (*w)->Sync();
    CHECK_FALSE(sync.ok());
    CHECK(Contains(sync.message(), io::CallName(c.call)));
    CHECK_FALSE((*w)->WaitDurable(unsynced, 0).ok());
    auto refused = (*w)->Reserve(8, 1);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().IsUnavailable());
    CHECK(Contains(refused.status().message(), io::CallName(c.call)));
    const Status closed = (*w)->Close();
    CHECK_FALSE(closed.ok());
    CHECK(Contains(closed.message(), io::CallName(c.call)));
    CHECK(SyncCalls(faults, SegmentFileName(0)) == sync_calls);
    CHECK((*w)->durable_position() == synced);
    CHECK_FALSE((*w)->WaitDurable(unsynced, 0).ok());
    // After Close (the syncer thread joined): on_durable never went past the synced position,
    // and was called once more, with it unchanged, to wake a consumer holding acknowledgements.
    for (const std::uint64_t p : log.Get()) CHECK(p <= synced);
    CHECK(log.Get().size() == calls_before + 1);
  }
  // Restart with the disk healthy again: every durable position is there (and here the page
  // cache still holds the unsynced batch, so it is recovered too).
  CHECK(ReopenAndCheck(dir, synced) == unsynced);
}

TEST_CASE("a failed directory fsync for a new segment keeps every position in it non-durable",
          "[journal][fault][durability]") {
  TempDir tmp("rill-fault");
  const std::string dir = tmp.Sub("j");
  std::uint64_t synced = 0, last = 0;
  {
    FaultInjector faults;
    WriterOptions o = SmallOptions(dir, 16 * 1024);
    o.durability = Durability::kBatch;
    auto w = JournalWriter::Open(o);
    REQUIRE(w.ok());
    synced = AppendBatch(**w, 4);
    REQUIRE((*w)->WaitDurable(synced, -1).ok());
    // Every fsync of the directory fails from now on: the segment preparer's own (best effort,
    // off the syncer's path) may come first, so "the next one" would not be deterministic.
    faults.Add(FaultRule{.call = Call::kFsyncDir, .path_contains = dir, .nth = 1, .error = EIO, .times = UINT64_MAX});
    // Roll into segment 1: its name must be durable before any position in it is.
    // (The syncer may fail, and appends stop, before 400.)
    while ((*w)->committed_position() < 400) {
      const std::uint64_t p = AppendBatch(**w, 10);
      if (p == 0) break;
      last = p;
    }
    REQUIRE((*w)->committed_position() == last);
    const Status s = (*w)->WaitDurable(last, -1);
    INFO(s.ToString());
    REQUIRE_FALSE(s.ok());
    CHECK(Contains(s.message(), "fsync directory " + dir));
    // Segment 0's batches may have been synced before the failure; nothing in segment 1 was.
    auto first_of_1 = SegmentFile::Open(dir + "/" + SegmentFileName(1), SegmentFile::Mode::kReadOnly);
    REQUIRE(first_of_1.ok());
    CHECK((*w)->durable_position() < (*first_of_1)->header().first_position);
    synced = (*w)->durable_position();
    CHECK_FALSE((*w)->Close().ok());
  }
  CHECK(ReopenAndCheck(dir, synced) == last);
}

// Until the preparer has made the next segment's file (after its directory fsync), up to 10 s.
void WaitForPreparedSegment(const std::string& dir) {
  for (int i = 0; i < 1000; ++i) {
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.path().string().ends_with(".seg.tmp")) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("the segment preparer made no .seg.tmp in " << dir);
}

TEST_CASE("an explicit Sync() failure under policy none is reported, stops appends and is never retried",
          "[journal][fault][durability]") {
  const Call call = GENERATE(Call::kMsync, Call::kFdatasync, Call::kFsyncDir);
  CAPTURE(io::CallName(call));
  TempDir tmp("rill-fault");
  const std::string dir = tmp.Sub("j");
  std::uint64_t last = 0;
  {
    FaultInjector faults;
    WriterOptions o = SmallOptions(dir, 16 * 1024);
    o.sync_method = call == Call::kFdatasync ? SyncMethod::kFdatasync : SyncMethod::kMsync;
    auto w = JournalWriter::Open(o);
    REQUIRE(w.ok());
    REQUIRE(AppendBatch(**w, 4) == 4);
    REQUIRE((*w)->Sync().ok());
    last = AppendBatch(**w, 4);
    // The segment preparer fsyncs the directory too, on its own thread, before it creates the
    // next segment's .tmp: wait for that file, or a slow preparer takes the injected failure.
    WaitForPreparedSegment(dir);
    faults.Add(
        FaultRule{.call = call, .path_contains = call == Call::kFsyncDir ? dir : ".seg", .nth = 1, .error = EIO});
    const Status s = (*w)->Sync();
    INFO(s.ToString());
    REQUIRE_FALSE(s.ok());
    CHECK(faults.injected() == 1);
    CHECK(Contains(s.message(), call == Call::kFsyncDir ? "fsync directory " + dir : dir + "/" + SegmentFileName(0)));
    CHECK(Contains((*w)->status().message(), std::strerror(EIO)));
    const std::uint64_t sync_calls = SyncCalls(faults, dir);
    // Not retried: the next Sync() and Close() report the same failure without a sync call.
    CHECK(std::string((*w)->Sync().message()) == std::string(s.message()));
    auto refused = (*w)->Reserve(8, 1);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().IsUnavailable());
    CHECK_FALSE((*w)->Close().ok());
    CHECK(SyncCalls(faults, dir) == sync_calls);
  }
  CHECK(ReopenAndCheck(dir, last) == last);
}

TEST_CASE("Sync() under policy none syncs the segments rolled since the last Sync()", "[journal][fault][durability]") {
  TempDir tmp("rill-fault");
  const std::string dir = tmp.Sub("j");
  FaultInjector faults;
  auto w = JournalWriter::Open(SmallOptions(dir, 16 * 1024));
  REQUIRE(w.ok());
  while ((*w)->committed_position() < 400) REQUIRE(AppendBatch(**w, 10) != 0);
  // Segment 0 is sealed; only an fdatasync of it can make its batches durable now.
  faults.Add(FaultRule{.call = Call::kFdatasync, .path_contains = SegmentFileName(0), .nth = 1, .error = EIO});
  const Status s = (*w)->Sync();
  INFO(s.ToString());
  CHECK_FALSE(s.ok());
  CHECK(Contains(s.message(), SegmentFileName(0)));
}

TEST_CASE("a failed preallocation, create or rename of the next segment stops appends - committed data stays durable",
          "[journal][fault][roll]") {
  struct RollCase {
    Call call;
    int error;
    const char* what;  // in the message
  };
  const RollCase c =
      GENERATE(RollCase{Call::kFallocate, ENOSPC, "preallocate"}, RollCase{Call::kFallocate, EIO, "preallocate"},
               RollCase{Call::kOpenCreate, ENOSPC, "create segment"}, RollCase{Call::kRename, EIO, "rename"});
  CAPTURE(io::CallName(c.call), c.error);
  TempDir tmp("rill-fault");
  const std::string dir = tmp.Sub("j");
  std::uint64_t committed = 0;
  {
    FaultInjector faults;
    // Segment 1's file: the preparer creates it in the background right after Open, so the
    // rule is in place before Open.
    faults.Add(FaultRule{.call = c.call, .path_contains = SegmentFileName(1) + ".tmp", .nth = 1, .error = c.error});
    WriterOptions o = SmallOptions(dir, 16 * 1024);
    o.durability = Durability::kBatch;
    auto w = JournalWriter::Open(o);
    REQUIRE(w.ok());
    Status failure;
    for (int i = 0; i < 1000 && failure.ok(); ++i) {
      if (AppendBatch(**w, 10) == 0) failure = (*w)->status();
    }
    INFO(failure.ToString());
    REQUIRE_FALSE(failure.ok());
    CHECK(faults.injected() == 1);
    CHECK(Contains(failure.message(), c.what));
    CHECK(Contains(failure.message(), SegmentFileName(1)));
    CHECK(Contains(failure.message(), std::strerror(c.error)));
    auto refused = (*w)->Reserve(8, 1);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().IsUnavailable());
    // An append failure is not a sync failure: everything committed still becomes durable.
    committed = (*w)->committed_position();
    CHECK(committed > 0);
    CHECK((*w)->Sync().ok());
    CHECK((*w)->WaitDurable(committed, -1).ok());
    CHECK((*w)->durable_position() == committed);
    CHECK((*w)->Close().ok());
  }
  CHECK(ReopenAndCheck(dir, committed) == committed);
}

TEST_CASE("a failed open-time call refuses the open, naming call and file - the next open works",
          "[journal][fault][open]") {
  struct OpenCase {
    Call call;
    const char* path;  // matched in the path; also expected in the message
    int error;
  };
  const OpenCase c = GENERATE(OpenCase{Call::kFtruncate, "LOCK", EIO},                  // writing the pid
                              OpenCase{Call::kFallocate, "control", ENOSPC},            // sizing the control file
                              OpenCase{Call::kFdatasync, "0000000000000000.seg", EIO},  // recovered data
                              OpenCase{Call::kFallocate, "0000000000000000.seg.tmp", ENOSPC});  // a new journal
  CAPTURE(io::CallName(c.call), c.path);
  TempDir tmp("rill-fault");
  const std::string dir = tmp.Sub("j");
  WriterOptions o = SmallOptions(dir);
  o.durability = Durability::kBatch;
  o.sync_method = SyncMethod::kFdatasync;
  const bool existing = std::string(c.path) != "0000000000000000.seg.tmp";
  std::uint64_t durable = 0;
  if (existing) {  // a journal with data, whose reopen then fails
    auto w = JournalWriter::Open(o);
    REQUIRE(w.ok());
    durable = AppendBatch(**w, 7);
    REQUIRE((*w)->WaitDurable(durable, -1).ok());
  }
  {
    FaultInjector faults;
    faults.Add(FaultRule{.call = c.call, .path_contains = c.path, .nth = 1, .error = c.error});
    auto w = JournalWriter::Open(o);
    REQUIRE_FALSE(w.ok());
    INFO(w.status().ToString());
    CHECK(faults.injected() == 1);
    CHECK(Contains(w.status().message(), c.path));
    CHECK(Contains(w.status().message(), std::strerror(c.error)));
  }
  CHECK(ReopenAndCheck(dir, durable) == durable);
}

TEST_CASE("a salvage whose lowered durable floor cannot be synced refuses the open - the next one works",
          "[journal][fault][open]") {
  TempDir tmp("rill-fault");
  const std::string dir = tmp.Sub("j");
  WriterOptions o = SmallOptions(dir, 16 * 1024);
  std::uint64_t last = 0;
  {
    auto w = JournalWriter::Open(o);
    REQUIRE(w.ok());
    for (int i = 0; i < 100; ++i) last = AppendBatch(**w, 4);
  }
  auto list = ListSegmentIndexes(dir);
  REQUIRE(list.ok());
  REQUIRE(list->size() >= 2);
  REQUIRE(::unlink((dir + "/" + SegmentFileName(list->back())).c_str()) == 0);  // ends before its durable position
  o.salvage = true;
  {
    FaultInjector faults;
    faults.Add(FaultRule{.call = Call::kMsync, .path_contains = "control", .nth = 1, .error = EIO});
    auto w = JournalWriter::Open(o);
    REQUIRE_FALSE(w.ok());  // never appends on a floor that a power loss could bring back
    CHECK(faults.injected() == 1);
    CHECK(Contains(w.status().message(), "control"));
  }
  auto w = JournalWriter::Open(o);
  REQUIRE(w.ok());
  CHECK((*w)->committed_position() < last);
}

TEST_CASE("moving and copying aside report a failed rename or fsync with the file", "[journal][fault][aside]") {
  TempDir tmp("rill-fault");
  const std::string dir = tmp.path();
  for (const char* name : {"a.seg", "b.seg"}) {
    const int fd = ::open((dir + "/" + name).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "x", 1) == 1);
    ::close(fd);
  }
  FaultInjector faults;
  faults.Add(FaultRule{.call = Call::kRename, .path_contains = "a.seg", .nth = 1, .error = EIO});
  auto aside = CreateAsideDirectory(dir);
  REQUIRE(aside.ok());
  auto moved = MoveAside(dir, *aside, {"a.seg"});
  REQUIRE_FALSE(moved.ok());
  CHECK(Contains(moved.status().message(), "a.seg"));
  CHECK(::access((dir + "/a.seg").c_str(), F_OK) == 0);  // still where it was
  faults.Add(FaultRule{.call = Call::kFsync, .path_contains = "b.seg", .nth = 1, .error = EIO});
  auto copied = CopyAside(dir, *aside, "b.seg");
  REQUIRE_FALSE(copied.ok());
  CHECK(Contains(copied.status().message(), "fsync"));
  CHECK(Contains(copied.status().message(), "b.seg"));
  auto aside_b = CreateAsideDirectory(dir);
  REQUIRE(aside_b.ok());
  faults.Add(FaultRule{.call = Call::kFsyncDir, .path_contains = dir, .nth = 1, .error = EIO});
  auto moved_b = MoveAside(dir, *aside_b, {"b.seg"});
  REQUIRE_FALSE(moved_b.ok());
  CHECK(Contains(moved_b.status().message(), "fsync directory"));
}

// A fenced writer can move the same segment name aside twice in one process (and two
// processes can salvage within one second): each event gets its own directory, and nothing set
// aside earlier is ever replaced (the directory name used to be fixed per process).
TEST_CASE("setting aside twice in one second keeps both files", "[journal][aside]") {
  TempDir tmp("rill-aside");
  const std::string dir = tmp.path();
  auto write_file = [&](const char* content) {
    const int fd = ::open((dir + "/s.seg").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, content, 5) == 5);
    ::close(fd);
  };
  auto read_file = [](const std::string& path) {
    char buf[8] = {};
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(::read(fd, buf, 5) == 5);
    ::close(fd);
    return std::string(buf, 5);
  };
  write_file("first");
  auto a1 = CreateAsideDirectory(dir);
  REQUIRE(a1.ok());
  auto c1 = CopyAside(dir, *a1, "s.seg");
  REQUIRE(c1.ok());
  REQUIRE(MoveAside(dir, *a1, {"s.seg"}).ok() == false);  // the copy holds the name: refused, not replaced
  write_file("secnd");
  auto a2 = CreateAsideDirectory(dir);
  REQUIRE(a2.ok());
  CHECK(*a2 != *a1);
  REQUIRE(MoveAside(dir, *a2, {"s.seg"}).ok());
  CHECK(read_file(*c1) == "first");
  CHECK(read_file(*a2 + "/s.seg") == "secnd");
}

TEST_CASE("the fault injector fails exactly the chosen calls", "[journal][fault][seam]") {
  TempDir tmp("rill-fault");
  const std::string path = tmp.Sub("f");
  int fd = -1;
  REQUIRE(io::OpenCreate(path, O_RDWR, 0644, &fd) == 0);
  {
    FaultInjector faults;
    faults.Add(FaultRule{.call = Call::kFdatasync, .path_contains = "f", .nth = 3, .error = EIO, .times = 2});
    faults.Add(FaultRule{.call = Call::kFdatasync, .path_contains = "other", .nth = 1, .error = ENOSPC});
    std::vector<int> results;
    for (int i = 0; i < 6; ++i) results.push_back(io::Fdatasync(fd, path));
    CHECK(results == std::vector<int>{0, 0, EIO, EIO, 0, 0});
    CHECK(faults.calls(Call::kFdatasync) == 6);
    CHECK(faults.injected() == 2);
    CHECK(faults.WaitInjected(2));
    REQUIRE(faults.log().size() == 2);
    CHECK(faults.log()[0] == "fdatasync " + path + ": EIO");
    CHECK(io::Ftruncate(fd, 0, path) == 0);  // other kinds are untouched
  }
  CHECK(io::Fdatasync(fd, path) == 0);  // no injector: no hook
  ::close(fd);
}

}  // namespace rill::journal::test
