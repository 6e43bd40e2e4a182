// rill/engine/snapshot_file.h: the snapshot file format: every aggregate's state and version,
// the idempotency window and the journal position they stand for, versioned and checksummed,
// so a restart replays only the journal after it.
//
//   <dir>/snapshot-<position, 20 digits>.snap       (written as .tmp, fsync'd, renamed, dir fsync'd)
//
//    0        8        12          16                24                32                40
//   +--------+--------+-----------+-----------------+-----------------+-----------------+
//   | magic  | format | state_size| schema          | position        | created_ns      |
//   | u64    | u32    | u32       | fingerprint u64 | u64             | i64             |
//   +--------+--------+-----------+-----------------+-----------------+-----------------+
//   40                48                56                64                72
//   +-----------------+-----------------+-----------------+-----------------+
//   | build_id u64    | aggregates u64  | window_entries  | state digest    |
//   |                 |                 | u64             | u64             |
//   +-----------------+-----------------+-----------------+-----------------+
//   72                80        84        88        92        96
//   +-----------------+---------+---------+---------+---------+---------------------------
//   | payload_size u64| payload | state   | kinds   | header  | payload (format 1):
//   |                 | crc u32 | align   | u32     | crc u32 | ids u64[aggregates], versions u64[aggregates],
//   |                 |         | u32     |         |         | states (state_size each, padded to 8),
//   +-----------------+---------+---------+---------+---------+ window entries (48 bytes each, oldest first)
//
// Format 1 holds one aggregate kind (kinds = 0). Format 2 (a domain with several kinds, kinds =
// their number; state_size and state_align are 0) starts its payload with a kind table, one
// 16-byte entry per kind in the domain's order {count u64, state_size u32, state_align u32},
// then per kind a section laid out as format 1's aggregates (ids, versions, states padded to
// 8), then the window entries. `aggregates` is the sum of the counts. A domain with one kind
// writes format 1, so its files stay readable by older builds; a reader of format 1 only skips
// format 2 files with a note.
//
// Little-endian; CRCs are masked CRC-32C (base/crc32c.h); header_crc covers bytes [0, 92).
// `position` is the last journal position whose effects the snapshot holds (always the end of
// a batch, so never inside a command); a replay continues at position + 1. The build id says
// which domain code wrote it (engine/snapshot.h, SnapshotBuildId): states are raw bytes of
// Domain::State, meaningful only to the same State layout and Evolve.
// Thread safety: the free functions are reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "rill/base/status.h"

namespace rill::engine {

inline constexpr std::uint64_t kSnapshotMagic = 0x31504e534c4c4952ull;  // "RILLSNP1"
inline constexpr std::uint32_t kSnapshotFormatVersion = 1;              // one aggregate kind
inline constexpr std::uint32_t kSnapshotFormatKinds = 2;                // a kind table and a section per kind
inline constexpr std::size_t kSnapshotKindEntrySize = 16;               // count u64, state_size u32, state_align u32
inline constexpr std::size_t kSnapshotHeaderSize = 96;
inline constexpr std::size_t kSnapshotWindowEntrySize = 48;  // command id, fingerprint, 32-byte outcome

struct SnapshotHeader {
  std::uint64_t magic;
  std::uint32_t format_version;
  std::uint32_t state_size;
  std::uint64_t schema_fingerprint;
  std::uint64_t position;
  std::int64_t created_ns;
  std::uint64_t build_id;
  std::uint64_t aggregates;
  std::uint64_t window_entries;
  std::uint64_t digest;
  std::uint64_t payload_size;
  std::uint32_t payload_crc;
  std::uint32_t state_align;
  std::uint32_t kinds;  // 0: format 1
  std::uint32_t header_crc;
};
static_assert(sizeof(SnapshotHeader) == kSnapshotHeaderSize);
static_assert(offsetof(SnapshotHeader, schema_fingerprint) == 16 && offsetof(SnapshotHeader, position) == 24);
static_assert(offsetof(SnapshotHeader, build_id) == 40 && offsetof(SnapshotHeader, digest) == 64);
static_assert(offsetof(SnapshotHeader, payload_size) == 72 && offsetof(SnapshotHeader, header_crc) == 92);

// The payload's size for a header's counts, or 0 when they overflow (format 1).
std::uint64_t SnapshotPayloadSize(std::uint64_t aggregates, std::uint32_t state_size, std::uint64_t window_entries);
// Format 2: the payload's size from its kind table, or 0 when the table is inconsistent (counts
// that overflow or do not sum to `aggregates`, a table beyond the payload).
std::uint64_t SnapshotKindsPayloadSize(std::span<const std::byte> payload, std::uint32_t kinds,
                                       std::uint64_t aggregates, std::uint64_t window_entries);

std::string SnapshotFileName(std::uint64_t position);

// Writes <dir>/snapshot-<header.position>.snap atomically (temp file, fsync, rename, fsync of
// the directory, which is created if missing), then deletes all but the newest `keep`. Fills
// magic, format (from header.kinds), sizes, CRCs and created_ns of `header`; the caller sets the rest.
Status WriteSnapshotFile(const std::string& dir, SnapshotHeader header, std::span<const std::byte> payload, int keep);

// What a directory holds, newest first, from the file names only (nothing is read).
struct SnapshotFileEntry {
  std::string path;
  std::uint64_t position = 0;
};
std::vector<SnapshotFileEntry> ListSnapshotFiles(const std::string& dir);

// Reads a snapshot file and checks what needs no domain: magic, format, both CRCs, the payload
// size against the counts, and the position against the file name. Returns why it is unusable,
// or "" with *header and *payload filled.
std::string ReadSnapshotFile(const std::string& path, std::uint64_t position, SnapshotHeader* header,
                             std::vector<std::byte>* payload);

}  // namespace rill::engine
