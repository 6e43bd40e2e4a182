// Helpers of the recovery-rule tests (recovery_rule_test.cpp, recovery_randomized_test.cpp,
// format_version_test.cpp): a journal over several small segments, file edits, the verdict.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "journal_test_util.h"
#include "rill/journal/journal_verifier.h"
#include "rill/journal/recovery.h"
#include "rill/journal/segment_dir.h"

namespace rill::journal::rule_test {

using rill::journal::test::TempDir;

struct Log : Reporter {
  std::vector<TailCut> cuts;
  std::vector<SalvageReport> salvages;
  void TailTruncated(const TailCut& c) override { cuts.push_back(c); }
  void Salvaged(const SalvageReport& r) override { salvages.push_back(r); }
};

inline std::vector<char> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void WriteFile(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string Seg(const std::string& dir, std::uint64_t index) { return dir + "/" + SegmentFileName(index); }

constexpr std::size_t kSegment = 8 * 1024;

// A journal over several segments, closed cleanly: the control file records every position as
// durable (Durability::kNone: durable == committed).
inline std::uint64_t WriteJournal(const std::string& dir, int batches = 150) {
  auto w = JournalWriter::Open(test::SmallOptions(dir, kSegment));
  REQUIRE(w.ok());
  std::uint64_t last = 0;
  for (int b = 0; b < batches; ++b) last = test::AppendBatch(**w, 3);
  return last;
}

inline std::vector<std::uint64_t> Segments(const std::string& dir) {
  auto list = ListSegmentIndexes(dir);
  REQUIRE(list.ok());
  return *list;
}

inline Verdict VerdictOf(const std::string& dir) {
  auto c = CheckJournal(dir);
  REQUIRE(c.ok());
  return c->verdict;
}

inline rill::Result<std::unique_ptr<JournalWriter>> OpenWriter(const std::string& dir, Log* log, bool salvage = false) {
  WriterOptions o = test::SmallOptions(dir, kSegment);
  o.salvage = salvage;
  return JournalWriter::Open(o, log);
}

// Every position 1..n is present, once, in order, with its own payload.
inline void ExpectPrefixIntact(const std::string& dir, std::uint64_t n) {
  bool match = false;
  rill::Status err;
  const auto positions = test::ReadAll(dir, &err, &match);
  INFO(err.ToString());
  REQUIRE(positions.size() >= n);
  CHECK(test::IsGapFree(positions));
  CHECK(match);
}

}  // namespace rill::journal::rule_test
