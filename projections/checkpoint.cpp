#include "rill/projections/checkpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <utility>

#include "rill/base/crc32c.h"
#include "rill/base/durable_file.h"
#include "rill/base/regular_file.h"
#include "rill/base/result.h"

namespace rill::projections {
namespace {

std::string FileName(const std::string& name, std::uint64_t position) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%020" PRIu64 ".ckpt", position);
  return name + buf;
}

std::uint32_t NameHash(const std::string& name) { return crc32c::Value(name.data(), name.size()); }

// "<name>-<20 digits>.ckpt" -> (name, position); false for any other file name.
bool ParseFileName(const std::string& f, std::string* name, std::uint64_t* position) {
  constexpr std::size_t kSuffix = 1 + 20 + 5;  // "-" + digits + ".ckpt"
  if (f.size() <= kSuffix || f.compare(f.size() - 5, 5, ".ckpt") != 0 || f[f.size() - kSuffix] != '-') return false;
  std::uint64_t pos = 0;
  for (std::size_t i = f.size() - kSuffix + 1; i < f.size() - 5; ++i) {
    if (f[i] < '0' || f[i] > '9') return false;
    pos = pos * 10 + static_cast<std::uint64_t>(f[i] - '0');
  }
  *name = f.substr(0, f.size() - kSuffix);
  *position = pos;
  return true;
}

// (name, position) of every checkpoint file in dir; of one view when `only` is set. Newest first.
std::vector<std::pair<std::string, std::uint64_t>> ListFiles(const std::string& dir, const std::string* only) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    std::string name;
    std::uint64_t pos = 0;
    if (ParseFileName(e->d_name, &name, &pos) && (only == nullptr || name == *only)) out.emplace_back(name, pos);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first < b.first : a.second > b.second; });
  return out;
}

std::vector<std::uint64_t> ListPositions(const std::string& dir, const std::string& name) {
  std::vector<std::uint64_t> out;
  for (const auto& f : ListFiles(dir, &name)) out.push_back(f.second);
  return out;
}

// Reads a checkpoint file and checks what does not depend on the reader: magic, format, both
// CRCs, and that its name and position match its file name. Returns why not, or "".
std::string ReadIntact(const std::string& path, const std::string& name, std::uint64_t position, CheckpointHeader* h,
                       std::vector<std::byte>* bytes) {
  // A regular file only: a FIFO named like a checkpoint would block open(2) (and `rill inspect info`).
  Result<int> opened = OpenRegularFile(path, O_RDONLY, "checkpoint");
  if (!opened.ok()) return std::string(opened.status().message());
  const int fd = *opened;
  char buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    const auto* b = reinterpret_cast<const std::byte*>(buf);
    bytes->insert(bytes->end(), b, b + r);
  }
  ::close(fd);
  if (bytes->size() < sizeof *h) return "shorter than its header";
  std::memcpy(h, bytes->data(), sizeof *h);
  if (h->magic != kCheckpointMagic || h->format_version != kCheckpointFormatVersion)
    return "not a rill checkpoint of format 1";
  if (crc32c::Unmask(h->header_crc) != crc32c::Value(h, offsetof(CheckpointHeader, header_crc)))
    return "header checksum mismatch";
  if (h->payload_size != bytes->size() - sizeof *h ||
      crc32c::Unmask(h->payload_crc) != crc32c::Value(bytes->data() + sizeof *h, bytes->size() - sizeof *h))
    return "payload truncated or checksum mismatch";
  if (h->name_hash != NameHash(name) || h->position != position)
    return "file name does not match its header (renamed?)";
  return "";
}

}  // namespace

Status WriteCheckpoint(const std::string& dir, const CheckpointMeta& meta, std::span<const std::byte> payload,
                       int keep) {
  CheckpointHeader h{};
  h.magic = kCheckpointMagic;
  h.format_version = kCheckpointFormatVersion;
  h.model_version = meta.model_version;
  h.schema_fingerprint = meta.schema_fingerprint;
  h.position = meta.position;
  h.created_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  h.payload_size = payload.size();
  h.payload_crc = crc32c::Mask(crc32c::Value(payload.data(), payload.size()));
  h.name_hash = NameHash(meta.name);
  h.header_crc = crc32c::Mask(crc32c::Value(&h, offsetof(CheckpointHeader, header_crc)));

  const std::string final_path = dir + "/" + FileName(meta.name, meta.position);
  const std::span<const std::byte> parts[] = {std::as_bytes(std::span(&h, 1)), std::as_bytes(payload)};
  RILL_RETURN_IF_ERROR(WriteFileDurably(final_path, parts, "checkpoint"));
  const std::vector<std::uint64_t> all = ListPositions(dir, meta.name);
  for (std::size_t i = static_cast<std::size_t>(std::max(keep, 1)); i < all.size(); ++i)
    ::unlink((dir + "/" + FileName(meta.name, all[i])).c_str());
  return Status::OK();
}

std::optional<LoadedCheckpoint> LoadNewestCheckpoint(const std::string& dir, const CheckpointMeta& expect,
                                                     std::uint64_t journal_end, std::vector<std::string>* notes) {
  auto note = [&](const std::string& path, const std::string& why) {
    if (notes) notes->push_back("checkpoint " + path + " skipped: " + why);
  };
  for (std::uint64_t pos : ListPositions(dir, expect.name)) {
    const std::string path = dir + "/" + FileName(expect.name, pos);
    CheckpointHeader h{};
    std::vector<std::byte> bytes;
    if (const std::string why = ReadIntact(path, expect.name, pos, &h, &bytes); !why.empty()) {
      note(path, why);
      continue;
    }
    if (h.model_version != expect.model_version) {
      note(path, "read-model version " + std::to_string(h.model_version) + ", this build has " +
                     std::to_string(expect.model_version) + "; rebuilding");
      continue;
    }
    if (h.schema_fingerprint != expect.schema_fingerprint) {
      note(path, "written for another schema fingerprint; rebuilding");
      continue;
    }
    if (h.position > journal_end) {
      note(path, "position " + std::to_string(h.position) + " is beyond the journal's end " +
                     std::to_string(journal_end) + " (lost after a crash?)");
      continue;
    }
    LoadedCheckpoint out;
    out.position = h.position;
    out.path = path;
    out.payload.assign(bytes.begin() + sizeof h, bytes.end());
    return out;
  }
  return std::nullopt;
}

CheckpointWriter::CheckpointWriter(std::string dir, int keep)
    : dir_(std::move(dir)), keep_(keep), thread_([this] { Run(); }) {}

CheckpointWriter::~CheckpointWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CheckpointWriter::Submit(CheckpointMeta meta, std::vector<std::byte> payload) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A newer snapshot of the same view supersedes one still queued: the disk never falls behind.
    for (Job& j : jobs_)
      if (j.meta.name == meta.name) {
        j.meta = std::move(meta);
        std::swap(j.payload, payload);
        payload.clear();
        spares_.push_back(std::move(payload));
        return;
      }
    jobs_.push_back(Job{std::move(meta), std::move(payload)});
  }
  cv_.notify_all();
}

std::vector<std::byte> CheckpointWriter::Recycle() {
  std::lock_guard<std::mutex> lock(mu_);
  if (spares_.empty()) return {};
  std::vector<std::byte> b = std::move(spares_.back());
  spares_.pop_back();
  return b;
}

Status CheckpointWriter::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return jobs_.empty() && !busy_; });
  return last_error_;
}

std::uint64_t CheckpointWriter::written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return written_;
}

void CheckpointWriter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stop_ and nothing left
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    Status s = WriteCheckpoint(dir_, job.meta, job.payload, keep_);
    lock.lock();
    busy_ = false;
    if (s.ok()) {
      ++written_;
    } else {
      last_error_ = s;
    }
    job.payload.clear();
    if (spares_.size() < 4) spares_.push_back(std::move(job.payload));
    cv_.notify_all();
  }
}

std::vector<CheckpointFileInfo> ListCheckpoints(const std::string& dir) {
  std::vector<CheckpointFileInfo> out;
  for (const auto& [name, pos] : ListFiles(dir, nullptr)) {
    CheckpointFileInfo info;
    info.name = name;
    info.path = dir + "/" + FileName(name, pos);
    info.position = pos;
    CheckpointHeader h{};
    std::vector<std::byte> bytes;
    info.problem = ReadIntact(info.path, name, pos, &h, &bytes);
    if (info.problem.empty()) {
      info.model_version = h.model_version;
      info.schema_fingerprint = h.schema_fingerprint;
      info.created_ns = h.created_ns;
      info.payload_size = h.payload_size;
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace rill::projections
