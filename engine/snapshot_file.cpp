#include "rill/engine/snapshot_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>

#include "rill/base/crc32c.h"
#include "rill/base/durable_file.h"
#include "rill/base/regular_file.h"
#include "rill/base/result.h"

namespace rill::engine {
namespace {

constexpr char kPrefix[] = "snapshot-";
constexpr char kSuffix[] = ".snap";
constexpr std::size_t kPrefixLen = sizeof kPrefix - 1;
constexpr std::size_t kSuffixLen = sizeof kSuffix - 1;

bool ParseFileName(const std::string& f, std::uint64_t* position) {
  if (f.size() != kPrefixLen + 20 + kSuffixLen || f.compare(0, kPrefixLen, kPrefix) != 0 ||
      f.compare(f.size() - kSuffixLen, kSuffixLen, kSuffix) != 0)
    return false;
  std::uint64_t pos = 0;
  for (std::size_t i = kPrefixLen; i < kPrefixLen + 20; ++i) {
    if (f[i] < '0' || f[i] > '9') return false;
    pos = pos * 10 + static_cast<std::uint64_t>(f[i] - '0');
  }
  *position = pos;
  return true;
}

}  // namespace

std::uint64_t SnapshotPayloadSize(std::uint64_t aggregates, std::uint32_t state_size, std::uint64_t window_entries) {
  constexpr std::uint64_t kMax = std::uint64_t{1} << 48;  // 256 TiB: beyond that the counts are garbage
  if (aggregates > kMax / 64 || state_size > (1u << 20) || window_entries > kMax / kSnapshotWindowEntrySize) return 0;
  const std::uint64_t states = (aggregates * state_size + 7) / 8 * 8;
  return aggregates * 16 + states + window_entries * kSnapshotWindowEntrySize;
}

std::uint64_t SnapshotKindsPayloadSize(std::span<const std::byte> payload, std::uint32_t kinds,
                                       std::uint64_t aggregates, std::uint64_t window_entries) {
  constexpr std::uint64_t kMax = std::uint64_t{1} << 48;
  if (kinds == 0 || kinds > 254 || payload.size() < kinds * kSnapshotKindEntrySize ||
      window_entries > kMax / kSnapshotWindowEntrySize)
    return 0;
  std::uint64_t size = kinds * kSnapshotKindEntrySize, total = 0;
  for (std::uint32_t k = 0; k < kinds; ++k) {
    std::uint64_t count;
    std::uint32_t state_size;
    std::memcpy(&count, payload.data() + k * kSnapshotKindEntrySize, 8);
    std::memcpy(&state_size, payload.data() + k * kSnapshotKindEntrySize + 8, 4);
    if (count > kMax / 64 || state_size > (1u << 20)) return 0;
    total += count;
    size += count * 16 + (count * state_size + 7) / 8 * 8;
    if (total > kMax / 64 || size > kMax) return 0;
  }
  if (total != aggregates) return 0;
  return size + window_entries * kSnapshotWindowEntrySize;
}

std::string SnapshotFileName(std::uint64_t position) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%020" PRIu64 "%s", kPrefix, position, kSuffix);
  return buf;
}

Status WriteSnapshotFile(const std::string& dir, SnapshotHeader h, std::span<const std::byte> payload, int keep) {
  h.magic = kSnapshotMagic;
  h.format_version = h.kinds == 0 ? kSnapshotFormatVersion : kSnapshotFormatKinds;
  h.created_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  h.payload_size = payload.size();
  h.payload_crc = crc32c::Mask(crc32c::Value(payload.data(), payload.size()));
  h.header_crc = crc32c::Mask(crc32c::Value(&h, offsetof(SnapshotHeader, header_crc)));

  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Status::FromErrno("create snapshot directory " + dir, errno);
  const std::string final_path = dir + "/" + SnapshotFileName(h.position);
  const std::span<const std::byte> parts[] = {std::as_bytes(std::span(&h, 1)), std::as_bytes(payload)};
  RILL_RETURN_IF_ERROR(WriteFileDurably(final_path, parts, "snapshot"));
  const std::vector<SnapshotFileEntry> all = ListSnapshotFiles(dir);
  for (std::size_t i = static_cast<std::size_t>(std::max(keep, 1)); i < all.size(); ++i) ::unlink(all[i].path.c_str());
  return Status::OK();
}

std::vector<SnapshotFileEntry> ListSnapshotFiles(const std::string& dir) {
  std::vector<SnapshotFileEntry> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    std::uint64_t pos = 0;
    if (ParseFileName(e->d_name, &pos)) out.push_back({dir + "/" + e->d_name, pos});
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.position > b.position; });
  return out;
}

std::string ReadSnapshotFile(const std::string& path, std::uint64_t position, SnapshotHeader* h,
                             std::vector<std::byte>* payload) {
  // A regular file only: a FIFO named like a snapshot would block open(2) and start-up with it.
  Result<int> opened = OpenRegularFile(path, O_RDONLY, "snapshot");
  if (!opened.ok()) return std::string(opened.status().message());
  const int fd = *opened;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return std::strerror(err);
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  std::string why;
  if (size < sizeof *h) why = "shorter than its header (truncated)";
  std::size_t got = 0;
  if (why.empty()) {
    payload->resize(size - sizeof *h);
    while (got < size) {
      const std::size_t want = size - got;
      std::byte* dst = got < sizeof *h ? reinterpret_cast<std::byte*>(h) + got : payload->data() + (got - sizeof *h);
      const std::size_t n = got < sizeof *h ? sizeof *h - got : want;
      const ssize_t r = ::read(fd, dst, n);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        why = std::strerror(errno);
        break;
      }
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    if (why.empty() && got != size) why = "shorter than its size (changed while read?)";
  }
  ::close(fd);
  if (!why.empty()) return why;
  if (h->magic != kSnapshotMagic) return "not a rill snapshot (bad magic)";
  if (h->format_version != kSnapshotFormatVersion && h->format_version != kSnapshotFormatKinds)
    return "snapshot format " + std::to_string(h->format_version) + ", this rill reads formats " +
           std::to_string(kSnapshotFormatVersion) + " and " + std::to_string(kSnapshotFormatKinds);
  if (crc32c::Unmask(h->header_crc) != crc32c::Value(h, offsetof(SnapshotHeader, header_crc)))
    return "header checksum mismatch";
  if (h->payload_size != payload->size())
    return "truncated: payload has " + std::to_string(payload->size()) + " bytes, the header says " +
           std::to_string(h->payload_size);
  if (crc32c::Unmask(h->payload_crc) != crc32c::Value(payload->data(), payload->size()))
    return "payload checksum mismatch";
  if (h->format_version == kSnapshotFormatVersion ? h->kinds != 0 : h->kinds == 0)
    return "format " + std::to_string(h->format_version) + " with " + std::to_string(h->kinds) + " kinds";
  const std::uint64_t expected = h->kinds == 0
                                     ? SnapshotPayloadSize(h->aggregates, h->state_size, h->window_entries)
                                     : SnapshotKindsPayloadSize(*payload, h->kinds, h->aggregates, h->window_entries);
  if (h->payload_size != expected) return "payload size does not match its counts";
  if (h->position != position) return "file name does not match its header's position (renamed?)";
  return "";
}

}  // namespace rill::engine
