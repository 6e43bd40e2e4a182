// rill/tests/replication/journal_fixture.h: journals for the shipping tests: a writer that
// commits batches of varied sizes (deterministic content), and a dump of a journal's batches
// verbatim (NextBatch) so two journals can be compared byte for byte.
//
//   TestJournal j(tmp.Sub("leader"));
//   j.Commit(100);                                  // 100 batches, 1..7 records each
//   REQUIRE(DumpBatches(tmp.Sub("follower")) == DumpBatches(tmp.Sub("leader")));
//
// Thread safety: one thread per TestJournal.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rill/base/splitmix64.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/journal_writer.h"

namespace rill::replication::test {

inline constexpr std::uint64_t kTestSchema = 0x5eed5eed12345678ull;

inline std::vector<std::byte> TestSchemaBlob() {
  const char text[] = "test schema blob";
  std::vector<std::byte> b(sizeof text);
  std::memcpy(b.data(), text, sizeof text);
  return b;
}

class TestJournal {
 public:
  explicit TestJournal(std::string dir, std::size_t segment_size = 1u << 20, std::uint64_t seed = 1)
      : dir_(std::move(dir)), blob_(TestSchemaBlob()), rng_(seed) {
    journal::WriterOptions o;
    o.directory = dir_;
    o.segment_size = segment_size;
    o.schema_fingerprint = kTestSchema;
    o.schema_blob = blob_;
    auto w = journal::JournalWriter::Open(o);
    status_ = w.status();
    if (w.ok()) writer_ = std::move(w).value();
  }
  const Status& status() const { return status_; }
  journal::JournalWriter& writer() { return *writer_; }
  std::uint64_t committed() const { return writer_->committed_position(); }

  // Commits `batches` batches of 1..max_records records of 8..max_payload bytes; returns the
  // last position.
  std::uint64_t Commit(int batches, int max_records = 7, std::size_t max_payload = 300) {
    for (int b = 0; b < batches; ++b) {
      const int records = 1 + static_cast<int>(Next() % static_cast<std::uint64_t>(max_records));
      for (int r = 0; r < records; ++r) {
        const std::size_t n = 8 + Next() % max_payload;
        auto span = writer_->Reserve(n, static_cast<std::uint16_t>(1 + r));
        if (!span.ok()) return 0;
        for (std::size_t i = 0; i < n; ++i) (*span)[i] = static_cast<std::byte>(Next());
      }
      auto last = writer_->CommitBatch(++ts_);
      if (!last.ok()) return 0;
    }
    return writer_->committed_position();
  }
  void Close() { writer_.reset(); }

 private:
  std::uint64_t Next() { return rng_.Next(); }

  std::string dir_;
  std::vector<std::byte> blob_;
  SplitMix64 rng_;
  std::int64_t ts_ = 1'700'000'000'000'000'000;
  Status status_;
  std::unique_ptr<journal::JournalWriter> writer_;
};

// Every committed batch of the journal, verbatim, in order (empty on error).
inline std::vector<std::vector<std::byte>> DumpBatches(const std::string& dir) {
  std::vector<std::vector<std::byte>> out;
  auto r = journal::JournalReader::Open({.directory = dir});
  if (!r.ok()) return out;
  journal::RawBatch b;
  while ((*r)->NextBatch(&b) == journal::ReadStatus::kRecord) out.emplace_back(b.bytes.begin(), b.bytes.end());
  return out;
}

}  // namespace rill::replication::test
