// Tests of journal/journal_reader.cpp: seek, segment listing, tailing in this and another process.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "journal_test_util.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/journal_writer.h"

using namespace rill::journal;
using rill::journal::test::TempDir;

namespace {

// 300 batches of 1..5 records across many 8 KiB segments; batch b has timestamp 1000 * b.
std::uint64_t WriteTimedJournal(const std::string& dir) {
  auto w = JournalWriter::Open(test::SmallOptions(dir, 8 * 1024));
  std::uint64_t last = 0;
  for (int b = 0; b < 300; ++b) last = test::AppendBatch(**w, 1 + b % 5, 1000 * b);
  return last;
}

}  // namespace

TEST_CASE("seek by position lands on that record in any segment", "[journal][reader][seek]") {
  TempDir dir;
  const std::uint64_t last = WriteTimedJournal(dir.path());
  auto r = JournalReader::Open({dir.path(), true});
  REQUIRE(r.ok());
  Record rec;
  for (std::uint64_t p : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{77}, last / 2, last - 1, last}) {
    REQUIRE((*r)->SeekToPosition(p).ok());
    REQUIRE((*r)->Next(&rec) == ReadStatus::kRecord);
    CHECK(rec.position == p);
    CHECK(test::PayloadMatches(rec));
  }
  REQUIRE((*r)->SeekToPosition(last + 1).ok());  // the end: a tailer starts here
  CHECK((*r)->Next(&rec) == ReadStatus::kEnd);
  CHECK((*r)->SeekToPosition(last + 2).IsInvalidArgument());
}

TEST_CASE("seek by time lands on the first batch at or after that time", "[journal][reader][seek]") {
  TempDir dir;
  WriteTimedJournal(dir.path());
  auto r = JournalReader::Open({dir.path(), true});
  REQUIRE(r.ok());
  Record rec;
  for (int b : {0, 1, 57, 150, 299}) {
    REQUIRE((*r)->SeekToTime(1000 * b).ok());
    REQUIRE((*r)->Next(&rec) == ReadStatus::kRecord);
    CHECK(rec.timestamp_ns == 1000 * b);
    REQUIRE((*r)->SeekToTime(1000 * b - 500).ok());  // between batches: the next one
    REQUIRE((*r)->Next(&rec) == ReadStatus::kRecord);
    CHECK(rec.timestamp_ns == 1000 * b);
  }
  REQUIRE((*r)->SeekToTime(1000 * 300).ok());
  CHECK((*r)->Next(&rec) == ReadStatus::kEnd);
}

TEST_CASE("segments are listed with their position and time ranges", "[journal][reader]") {
  TempDir dir;
  const std::uint64_t last = WriteTimedJournal(dir.path());
  auto r = JournalReader::Open({dir.path(), true});
  REQUIRE(r.ok());
  auto segs = (*r)->ListSegments();
  REQUIRE(segs.ok());
  REQUIRE(segs->size() > 3);
  CHECK(segs->front().first_position == 1);
  CHECK(segs->back().last_position == last);
  for (std::size_t i = 0; i + 1 < segs->size(); ++i) {
    CHECK((*segs)[i].index == i);
    CHECK((*segs)[i].first_timestamp_ns <= (*segs)[i].last_timestamp_ns);
    CHECK((*segs)[i].last_timestamp_ns < (*segs)[i + 1].first_timestamp_ns);
  }
}

TEST_CASE("a tailer wakes for new commits and times out when idle", "[journal][reader][tail]") {
  TempDir dir;
  auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 8 * 1024));
  REQUIRE(w.ok());
  auto r = JournalReader::Open({dir.path(), true});
  REQUIRE(r.ok());
  Record rec;
  CHECK((*r)->Next(&rec) == ReadStatus::kEnd);
  CHECK_FALSE((*r)->WaitForCommit(1'000'000));  // nothing committed: times out
  std::thread writer([&] {
    for (int b = 0; b < 200; ++b) test::AppendBatch(**w, 3);
  });
  std::uint64_t expected = 1;
  while (expected <= 600) {
    const ReadStatus s = (*r)->Next(&rec);
    REQUIRE(s != ReadStatus::kError);
    if (s == ReadStatus::kEnd) {
      (*r)->WaitForCommit(-1);
      continue;
    }
    REQUIRE(rec.position == expected);
    REQUIRE(test::PayloadMatches(rec));
    ++expected;
  }
  writer.join();
  CHECK((*r)->committed_position() == 600);
}

TEST_CASE("a reader in another process follows a live writer", "[journal][reader][tail][process]") {
  TempDir dir;
  constexpr std::uint64_t kRecords = 3000;
  // Fork before any thread exists; the child only reads (no threads), then _exits with a code.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int code = 0;
    {
      std::unique_ptr<JournalReader> r;
      for (int tries = 0; !r && tries < 20000; ++tries) {
        auto opened = JournalReader::Open({dir.path(), true});
        if (opened.ok()) {
          r = std::move(opened).value();
        } else {
          ::usleep(1000);
        }
      }
      if (!r) code = 2;
      Record rec;
      std::uint64_t expected = 1;
      while (code == 0 && expected <= kRecords) {
        const ReadStatus s = r->Next(&rec);
        if (s == ReadStatus::kError) code = 3;
        if (s == ReadStatus::kEnd && !r->WaitForCommit(20'000'000'000)) code = 4;
        if (s != ReadStatus::kRecord) continue;
        if (rec.position != expected || !test::PayloadMatches(rec)) code = 5;
        ++expected;
      }
    }
    ::_exit(code);
  }
  {
    auto w = JournalWriter::Open(test::SmallOptions(dir.path(), 16 * 1024));
    REQUIRE(w.ok());
    std::uint64_t last = 0;
    for (int b = 0; last < kRecords; ++b)
      last = test::AppendBatch(**w, static_cast<std::uint32_t>(std::min<std::uint64_t>(1 + b % 4, kRecords - last)));
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
}

TEST_CASE("a reader opened on an empty directory says to open a writer first", "[journal][reader]") {
  TempDir dir;
  auto r = JournalReader::Open({dir.path(), true});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsNotFound());
}
