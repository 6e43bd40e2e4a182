// Helpers shared by the journal tests: temporary directories and deterministic records.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "rill/journal/journal_reader.h"
#include "rill/journal/journal_writer.h"
#include "rill/tests/support/temp_dir.h"

namespace rill::journal::test {

using rill::test::TempDir;  // tests/support/temp_dir.h

// Record at `position` has a size and bytes that depend only on the position.
inline std::size_t PayloadSize(std::uint64_t position) { return 1 + position % 61; }
inline std::byte PayloadByte(std::uint64_t position, std::size_t i) {
  return static_cast<std::byte>((position * 131 + i * 7) & 0xff);
}
inline bool PayloadMatches(const Record& r) {
  if (r.payload.size() != PayloadSize(r.position) || r.type != static_cast<std::uint16_t>(r.position % 7)) return false;
  for (std::size_t i = 0; i < r.payload.size(); ++i)
    if (r.payload[i] != PayloadByte(r.position, i)) return false;
  return true;
}

inline WriterOptions SmallOptions(const std::string& dir, std::size_t segment_size = 64 * 1024) {
  WriterOptions o;
  o.directory = dir;
  o.segment_size = segment_size;
  return o;
}

// Appends one batch of `records` records; returns the batch's last position (0 on error).
inline std::uint64_t AppendBatch(JournalWriter& w, std::uint32_t records, std::int64_t ts = 0) {
  std::uint64_t pos = w.committed_position() + 1;
  for (std::uint32_t i = 0; i < records; ++i, ++pos) {
    auto span = w.Reserve(PayloadSize(pos), static_cast<std::uint16_t>(pos % 7));
    if (!span.ok()) return 0;
    for (std::size_t j = 0; j < span->size(); ++j) (*span)[j] = PayloadByte(pos, j);
  }
  auto last = w.CommitBatch(ts);
  return last.ok() ? *last : 0;
}

// Reads every record from the start; returns the positions read (checking each payload),
// stopping at the end or at an error (then *error is set).
inline std::vector<std::uint64_t> ReadAll(const std::string& dir, Status* error = nullptr, bool* all_match = nullptr) {
  std::vector<std::uint64_t> out;
  auto r = JournalReader::Open({dir, true});
  if (!r.ok()) {
    if (error) *error = r.status();
    return out;
  }
  Record rec;
  bool match = true;
  for (;;) {
    const ReadStatus s = (*r)->Next(&rec);
    if (s == ReadStatus::kEnd) break;
    if (s == ReadStatus::kError) {
      if (error) *error = (*r)->error();
      break;
    }
    match = match && PayloadMatches(rec);
    out.push_back(rec.position);
  }
  if (all_match) *all_match = match;
  return out;
}

// Sets what the control file records as durable, as a power loss (or a syncer that never got
// there) would have left it: positions after it were committed but never reported durable.
inline void SetRecordedDurable(const std::string& dir, std::uint64_t position) {
  const int fd = ::open((dir + "/control").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  const ssize_t n = ::pwrite(fd, &position, sizeof position, 256);  // ControlBlock::durable_position
  (void)n;
  ::close(fd);
}

inline bool IsGapFree(const std::vector<std::uint64_t>& positions, std::uint64_t first = 1) {
  for (std::size_t i = 0; i < positions.size(); ++i)
    if (positions[i] != first + i) return false;
  return true;
}

}  // namespace rill::journal::test
