#include "rill/tools/crashtest/power_loss.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include "rill/journal/format.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/segment_file.h"

namespace rill::tools::crashtest {
namespace {

namespace fs = std::filesystem;

std::string N(std::uint64_t v) { return std::to_string(v); }

// Reads [0, n) of `from` (n = -1: all of it).
Result<std::vector<std::byte>> ReadPrefix(const std::string& from, std::int64_t n) {
  const int fd = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + from, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::FromErrno("stat " + from, e);
  }
  const auto size = static_cast<std::size_t>(n < 0 ? st.st_size : std::min<std::int64_t>(n, st.st_size));
  std::vector<std::byte> out(size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t r = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const int e = r < 0 ? errno : EIO;
      ::close(fd);
      return Status::FromErrno("read " + from, e);
    }
    done += static_cast<std::size_t>(r);
  }
  ::close(fd);
  return out;
}

Status WriteFile(const std::string& to, const std::vector<std::byte>& bytes) {
  const int fd = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + to, errno);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int e = w < 0 ? errno : EIO;
      ::close(fd);
      return Status::FromErrno("write " + to, e);
    }
    done += static_cast<std::size_t>(w);
  }
  return ::close(fd) == 0 ? Status::OK() : Status::FromErrno("close " + to, errno);
}

}  // namespace

Result<PowerLossCut> MakePowerLossCopy(const std::string& journal, const std::string& copy,
                                       std::uint64_t synced_position, std::mt19937_64& rng) {
  if (synced_position == 0) return Status::NotFound("nothing was synced yet");
  PowerLossCut cut;
  cut.synced_position = synced_position;

  // Where the synced bytes end: the syncer makes whole batches durable, so the end of the batch
  // that holds `synced_position`.
  std::uint64_t segment_index = 0;
  {
    Result<std::unique_ptr<journal::JournalReader>> r = journal::JournalReader::Open({.directory = journal});
    if (!r.ok()) return r.status();
    if (Status s = (*r)->SeekToPosition(synced_position); !s.ok())
      return Status::Corruption("the journal reports position " + N(synced_position) +
                                " synced but cannot seek to it: " + s.ToString());
    journal::Record rec;
    for (;;) {
      if ((*r)->Next(&rec) != journal::ReadStatus::kRecord || rec.position < synced_position)
        return Status::Corruption("the journal reports position " + N(synced_position) +
                                  " synced but does not hold all of its batch");
      if (rec.end_of_batch) break;
    }
    cut.synced_position = rec.position;
    segment_index = rec.segment_index;
    cut.segment = journal::SegmentFileName(rec.segment_index);
    cut.offset = rec.offset + ((journal::kFrameHeaderSize + rec.payload.size() + 7) & ~std::uint64_t{7});
  }

  std::error_code ec;
  fs::create_directories(copy, ec);
  if (ec) return Status::IOError("create " + copy + ": " + ec.message());
  for (const fs::directory_entry& entry : fs::directory_iterator(journal, ec)) {
    std::uint64_t index = 0;
    const std::string name = entry.path().filename().string();
    if (name == "control") {
      // The control file's page reached the disk at some earlier writeback: its durable
      // position is at most what was synced (the syncer publishes after the sync), perhaps
      // older. Recovery trusts it as a floor (FORMAT.md, "Recovery"): it must not refuse here.
      Result<std::vector<std::byte>> control = ReadPrefix(entry.path().string(), -1);
      if (!control.ok()) return control.status();
      if (control->size() >= 264) {
        const std::uint64_t floor = synced_position - rng() % (synced_position + 1) / (1 + rng() % 4);
        std::memcpy(control->data() + 256, &floor, sizeof floor);  // ControlBlock::durable_position
        cut.control_durable = floor;
      }
      RILL_RETURN_IF_ERROR(WriteFile((fs::path(copy) / name).string(), *control));
      continue;
    }
    if (!journal::ParseSegmentFileName(name, &index)) continue;  // LOCK, *.tmp, aside-*
    if (index > segment_index) {
      ++cut.segments_dropped;
      continue;
    }
    if (index < segment_index) {
      fs::copy_file(entry.path(), fs::path(copy) / name, fs::copy_options::overwrite_existing, ec);
      if (ec) return Status::IOError("copy " + entry.path().string() + ": " + ec.message());
      continue;
    }
    // The cut segment: the synced prefix, then what the disk may hold beyond it.
    Result<std::vector<std::byte>> whole = ReadPrefix(entry.path().string(), -1);
    if (!whole.ok()) return whole.status();
    std::vector<std::byte> bytes(whole->begin(), whole->begin() + static_cast<std::ptrdiff_t>(cut.offset));
    // A torn next batch: its first bytes made it to disk, the rest did not.
    std::uint32_t next_len = 0, next_batch_bytes = 0;
    if (cut.offset + 32 <= whole->size()) {
      std::memcpy(&next_len, whole->data() + cut.offset, 4);
      std::memcpy(&next_batch_bytes, whole->data() + cut.offset + 28, 4);
    }
    const bool next_is_batch =
        next_len == journal::kBatchFrameSize &&
        static_cast<journal::FrameKind>((*whole)[cut.offset + 8]) == journal::FrameKind::kBatch &&
        next_batch_bytes > 8 && cut.offset + next_batch_bytes <= whole->size();
    if (next_is_batch && (rng() & 1) != 0) {
      cut.torn_batch = true;
      const std::uint64_t keep = 1 + rng() % (next_batch_bytes - 1);  // never the whole batch
      bytes.insert(bytes.end(), whole->begin() + static_cast<std::ptrdiff_t>(cut.offset),
                   whole->begin() + static_cast<std::ptrdiff_t>(cut.offset + keep));
    }
    const std::uint64_t garbage = 1 + rng() % 8192;
    for (std::uint64_t i = 0; i < garbage; ++i) bytes.push_back(static_cast<std::byte>(rng() & 0xff));
    // A preallocated file never grows past its size on disk: the garbage stops at its end.
    if (bytes.size() > whole->size()) bytes.resize(whole->size());
    cut.garbage_bytes = bytes.size() - cut.offset;
    RILL_RETURN_IF_ERROR(WriteFile((fs::path(copy) / name).string(), bytes));
  }
  if (ec) return Status::IOError("list " + journal + ": " + ec.message());
  return cut;
}

}  // namespace rill::tools::crashtest
