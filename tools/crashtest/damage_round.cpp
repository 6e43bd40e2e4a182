#include "rill/tools/crashtest/damage_round.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include "rill/journal/control_file.h"
#include "rill/journal/format.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/journal_verifier.h"
#include "rill/journal/journal_writer.h"
#include "rill/journal/recovery.h"
#include "rill/journal/segment_file.h"

namespace rill::tools::crashtest {
namespace {

namespace fs = std::filesystem;

std::string N(std::uint64_t v) { return std::to_string(v); }

struct Salvages final : journal::Reporter {
  std::vector<journal::SalvageReport> salvaged;
  std::uint64_t cuts = 0;
  void TailTruncated(const journal::TailCut&) override { ++cuts; }
  void Salvaged(const journal::SalvageReport& r) override { salvaged.push_back(r); }
};

// A record at or below `durable` (uniformly among them), and the first position of its batch.
struct Target {
  std::uint64_t position = 0, batch_first = 0, segment_index = 0, offset = 0, payload_size = 0;
};

std::optional<Target> PickRecord(const std::string& dir, std::uint64_t durable, std::mt19937_64& rng) {
  auto r = journal::JournalReader::Open({.directory = dir});
  if (!r.ok()) return std::nullopt;
  const std::uint64_t first = (*r)->next_position();
  if (durable < first) return std::nullopt;
  const std::uint64_t want = first + rng() % (durable - first + 1);
  journal::Record rec;
  std::uint64_t batch_first = first;
  while ((*r)->Next(&rec) == journal::ReadStatus::kRecord) {
    if (rec.position == want && !rec.payload.empty())
      return Target{rec.position, batch_first, rec.segment_index, rec.offset, rec.payload.size()};
    if (rec.end_of_batch) batch_first = rec.position + 1;
    if (rec.position >= want) break;
  }
  return std::nullopt;
}

}  // namespace

DamageResult DamageBelowDurable(const std::string& journal, const std::string& copy, std::uint32_t segment_kib,
                                journal::Durability durability, std::mt19937_64& rng) {
  DamageResult d;
  std::error_code ec;
  fs::remove_all(copy, ec);
  fs::create_directories(copy, ec);
  for (const fs::directory_entry& e : fs::directory_iterator(journal, ec)) {
    std::uint64_t index = 0;
    const std::string name = e.path().filename().string();
    if (!journal::ParseSegmentFileName(name, &index) && name != "control") continue;
    fs::copy_file(e.path(), fs::path(copy) / name, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      d.violation = "damage round: copy " + e.path().string() + ": " + ec.message();
      return d;
    }
  }
  Result<journal::RecordedState> recorded = journal::ReadRecordedState(copy);
  if (!recorded.ok() || !recorded->present || recorded->durable == 0) {
    d.skipped = "nothing durable yet";
    return d;
  }
  const std::uint64_t durable = recorded->durable;
  const std::optional<Target> t = PickRecord(copy, durable, rng);
  if (!t) {
    d.skipped = "no record at or below the durable position";
    return d;
  }
  d.tried = true;
  d.segment = journal::SegmentFileName(t->segment_index);
  d.position = t->position;
  // One bit of the payload (never the length word: see FORMAT.md, "Known limits").
  d.offset = t->offset + journal::kFrameHeaderSize + rng() % t->payload_size;
  {
    const std::string path = copy + "/" + d.segment;
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    unsigned char byte = 0;
    const bool ok = fd >= 0 && ::pread(fd, &byte, 1, static_cast<off_t>(d.offset)) == 1 &&
                    (byte ^= static_cast<unsigned char>(1u << (rng() % 8)), true) &&
                    ::pwrite(fd, &byte, 1, static_cast<off_t>(d.offset)) == 1;
    if (fd >= 0) ::close(fd);
    if (!ok) {
      d.violation = "damage round: cannot flip a bit in " + path;
      return d;
    }
  }
  const std::string where = d.segment + " offset " + N(d.offset) + " (position " + N(d.position) +
                            ", durable position " + N(durable) + ", copy in " + copy + ")";
  Result<journal::JournalCheck> check = journal::CheckJournal(copy);
  if (!check.ok() || check->verdict != journal::Verdict::kDamaged) {
    d.violation = "a bit flipped in " + where + " is not reported as damage: " +
                  (check.ok() ? journal::DescribeVerdict(*check) : check.status().ToString());
    return d;
  }
  journal::WriterOptions wo;
  wo.directory = copy;
  wo.segment_size = std::size_t{segment_kib} * 1024;
  wo.durability = durability;
  {
    Salvages log;
    Result<std::unique_ptr<journal::JournalWriter>> w = journal::JournalWriter::Open(wo, &log);
    if (w.ok() || !w.status().IsCorruption() || log.cuts != 0) {
      d.violation =
          "the writer opened (or cut) a journal with a bit flipped below its durable position at " + where +
          (w.ok() ? ": it opened at position " + N((*w)->committed_position()) : ": " + w.status().ToString());
      return d;
    }
    if (std::string(w.status().message()).find(d.segment) == std::string::npos) {
      d.violation = "the refusal does not name the segment " + d.segment + ": " + w.status().ToString();
      return d;
    }
  }
  wo.salvage = true;
  Salvages log;
  {
    Result<std::unique_ptr<journal::JournalWriter>> w = journal::JournalWriter::Open(wo, &log);
    if (!w.ok()) {
      d.violation = "salvage failed on " + where + ": " + w.status().ToString();
      return d;
    }
    d.kept = (*w)->committed_position();
  }
  d.acknowledged_lost = log.salvaged.empty() ? 0 : log.salvaged[0].acknowledged_lost;
  if (d.kept != t->batch_first - 1 || log.salvaged.size() != 1 || d.acknowledged_lost != durable - t->batch_first + 1) {
    d.violation = "salvage of " + where + " kept positions up to " + N(d.kept) + " (expected " + N(t->batch_first - 1) +
                  ", the batch before the damaged one) and reported " + N(d.acknowledged_lost) +
                  " acknowledged events lost (expected " + N(durable - t->batch_first + 1) + ")";
    return d;
  }
  Result<journal::JournalCheck> after = journal::CheckJournal(copy);
  if (!after.ok() || after->verdict != journal::Verdict::kIntact) {
    d.violation = "after salvage of " + where + " the journal is not intact: " +
                  (after.ok() ? journal::DescribeVerdict(*after) : after.status().ToString());
    return d;
  }
  fs::remove_all(copy, ec);
  return d;
}

}  // namespace rill::tools::crashtest
