// rill/projections/checkpoint.h: a read model's state and position in a versioned,
// checksummed file, so a restart catches up instead of rebuilding from zero.
//
//   <dir>/<view name>-<position, 20 digits>.ckpt     (written as .tmp, fsync'd, renamed)
//
//    0        8        12       16                24                32                40
//   +--------+--------+--------+-----------------+-----------------+-----------------+
//   | magic  | format | model  | schema          | position        | created_ns      |
//   | u64    | u32    | version| fingerprint u64 | u64             | i64             |
//   +--------+--------+--------+-----------------+-----------------+-----------------+
//   40                48        52        56        60        64
//   +-----------------+---------+---------+---------+---------+--------------------
//   | payload_size u64| payload | name    | reserved| header  | payload: the model's
//   |                 | crc u32 | hash u32| u32     | crc u32 | Save() bytes
//   +-----------------+---------+---------+---------+---------+--------------------
//
// Little-endian; CRCs are masked CRC-32C (base/crc32c.h); header_crc covers bytes [0, 60).
// A checkpoint is used only when magic, format, both CRCs, the model version, the schema
// fingerprint and the view name match and its position is not beyond the journal's end;
// otherwise it is skipped (with a note saying why) and an older one, or zero, is used.
// Thread safety: the free functions are reentrant; CheckpointWriter is used by one thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "rill/base/status.h"

namespace rill::projections {

inline constexpr std::uint64_t kCheckpointMagic = 0x31504b434c4c4952ull;  // "RILLCKP1"
inline constexpr std::uint32_t kCheckpointFormatVersion = 1;
inline constexpr std::size_t kCheckpointHeaderSize = 64;

struct CheckpointHeader {
  std::uint64_t magic;
  std::uint32_t format_version;
  std::uint32_t model_version;
  std::uint64_t schema_fingerprint;
  std::uint64_t position;
  std::int64_t created_ns;
  std::uint64_t payload_size;
  std::uint32_t payload_crc;
  std::uint32_t name_hash;
  std::uint32_t reserved;
  std::uint32_t header_crc;
};
static_assert(sizeof(CheckpointHeader) == kCheckpointHeaderSize);
static_assert(offsetof(CheckpointHeader, schema_fingerprint) == 16 && offsetof(CheckpointHeader, position) == 24);
static_assert(offsetof(CheckpointHeader, payload_size) == 40 && offsetof(CheckpointHeader, header_crc) == 60);

struct CheckpointMeta {
  std::string name;  // the view's name; part of the file name
  std::uint32_t model_version = 0;
  std::uint64_t schema_fingerprint = 0;
  std::uint64_t position = 0;
};

// Writes <dir>/<name>-<position>.ckpt atomically (temp file, fsync, rename, fsync dir), then
// deletes all but the newest `keep` checkpoints of that name.
Status WriteCheckpoint(const std::string& dir, const CheckpointMeta& meta, std::span<const std::byte> payload,
                       int keep = 2);

struct LoadedCheckpoint {
  std::uint64_t position = 0;
  std::string path;
  std::vector<std::byte> payload;
};
// The newest checkpoint of `expect.name` that matches expect.model_version and
// expect.schema_fingerprint, is intact, and has position <= journal_end. Each skipped file
// adds a line to *notes (why). nullopt: none usable, rebuild from zero.
std::optional<LoadedCheckpoint> LoadNewestCheckpoint(const std::string& dir, const CheckpointMeta& expect,
                                                     std::uint64_t journal_end, std::vector<std::string>* notes);

// What a tool can say about one checkpoint file without the view's code (rill inspect info).
struct CheckpointFileInfo {
  std::string name;  // the view's name, from the file name
  std::string path;
  std::uint64_t position = 0;
  std::string problem;              // empty when intact (magic, format, CRCs, name); else why it is unusable
  std::uint32_t model_version = 0;  // the fields below only when intact
  std::uint64_t schema_fingerprint = 0;
  std::int64_t created_ns = 0;
  std::uint64_t payload_size = 0;
};
// Every checkpoint file in dir (all views), by name, newest first. Empty when dir is missing.
std::vector<CheckpointFileInfo> ListCheckpoints(const std::string& dir);

// Writes checkpoints on a helper thread, so the projector only copies its model into a buffer
// (on its own thread, between batches) and never waits for the disk.
class CheckpointWriter {
 public:
  explicit CheckpointWriter(std::string dir, int keep = 2);
  ~CheckpointWriter();  // writes what is queued, then stops
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // Queues a write; takes the buffer (the projector reuses the one handed back by Recycle).
  void Submit(CheckpointMeta meta, std::vector<std::byte> payload);
  // A spare buffer (empty, with capacity) for the next snapshot, if one was returned.
  std::vector<std::byte> Recycle();
  // Blocks until everything submitted so far is written; the last error, if any.
  Status Flush();
  std::uint64_t written() const;

 private:
  void Run();
  struct Job {
    CheckpointMeta meta;
    std::vector<std::byte> payload;
  };
  const std::string dir_;
  const int keep_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<std::vector<std::byte>> spares_;
  bool busy_ = false, stop_ = false;
  Status last_error_;
  std::uint64_t written_ = 0;
  std::thread thread_;
};

}  // namespace rill::projections
