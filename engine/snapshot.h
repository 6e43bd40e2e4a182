// rill/engine/snapshot.h: a CommandProcessor's aggregates and idempotency window to and from a
// snapshot payload (engine/snapshot_file.h has the file format), and the choice of the newest
// usable snapshot at start-up.
//
//   std::vector<std::byte> payload;
//   SnapshotHeader h = rill::engine::EncodeSnapshot(processor, &payload);  // owner thread of processor
//   h.position = applied; h.schema_fingerprint = registry.fingerprint(); h.build_id = SnapshotBuildId<D>(0);
//   RILL_RETURN_IF_ERROR(rill::engine::WriteSnapshotFile(dir, h, payload, /*keep=*/2));
//
//   std::vector<std::string> notes;                                   // one line per skipped file
//   auto found = rill::engine::FindSnapshot<D>(dir, {.schema_fingerprint = fp, .build_id = id,
//                                                    .journal_end = committed}, &notes);
//   if (found) RILL_RETURN_IF_ERROR(rill::engine::ApplySnapshot(*found, &fresh_processor));
//
// A snapshot is used only when it is intact (CRCs), of this schema fingerprint and build id,
// its State size and alignment match, its position is not beyond the journal's end, and the
// digest of its aggregates equals the one it recorded. Otherwise the next older one is tried;
// none usable means a full replay.
// Thread safety: FindSnapshot is reentrant; Encode/Apply run on the processor's owner thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rill/base/status.h"
#include "rill/engine/command_processor.h"
#include "rill/engine/domain.h"
#include "rill/engine/fingerprint.h"
#include "rill/engine/idempotency_window.h"
#include "rill/engine/snapshot_file.h"
#include "rill/engine/state_digest.h"

namespace rill::engine {

namespace snapshot_internal {
template <typename D>
constexpr std::string_view DomainName() {
  return __PRETTY_FUNCTION__;  // names D: stable for the same code, differs per domain
}
inline void AddText(Fingerprinter& f, std::string_view s) {
  f.Add(s.size());
  for (char c : s) f.Add(static_cast<unsigned char>(c));
}
}  // namespace snapshot_internal

// Which code wrote a snapshot: the domain's name, its State's size and alignment, the compiler
// and the application's own `domain_version` (EngineOptions::snapshot.domain_version: bump it
// when Evolve changes meaning, so snapshots of the old code are replayed instead of trusted).
template <typename D>
std::uint64_t SnapshotBuildId(std::uint64_t domain_version) {
  Fingerprinter f;
  snapshot_internal::AddText(f, snapshot_internal::DomainName<D>());
  snapshot_internal::AddText(f, __VERSION__);
  f.Add(sizeof(typename D::State));
  f.Add(alignof(typename D::State));
  f.Add(domain_version);
  return f.Finish();
}

// Serializes p's aggregates and window into *payload (reused: no allocation once it is big
// enough) and returns a header with the counts and the digest; the caller sets position,
// schema_fingerprint and build_id.
template <typename D>
SnapshotHeader EncodeSnapshot(const CommandProcessor<D>& p, std::vector<std::byte>* payload) {
  using State = typename D::State;
  const auto& store = p.store();
  const IdempotencyWindow& window = p.window();
  SnapshotHeader h{};
  h.state_size = sizeof(State);
  h.state_align = alignof(State);
  h.aggregates = store.size();
  h.window_entries = window.size();
  payload->resize(SnapshotPayloadSize(h.aggregates, h.state_size, h.window_entries));
  std::byte* ids = payload->data();
  std::byte* versions = ids + h.aggregates * 8;
  std::byte* states = versions + h.aggregates * 8;
  std::byte* entries = states + (h.aggregates * sizeof(State) + 7) / 8 * 8;
  std::memset(states, 0, static_cast<std::size_t>(entries - states));  // the pad to 8
  StateDigest digest;
  std::size_t i = 0;
  store.ForEach([&](std::uint64_t id, std::uint64_t version, const State& s) {
    std::memcpy(ids + i * 8, &id, 8);
    std::memcpy(versions + i * 8, &version, 8);
    std::memcpy(states + i * sizeof(State), &s, sizeof(State));
    digest.Add(AggregateHash<D>(id, version, s));
    ++i;
  });
  h.digest = digest.value();
  std::size_t w = 0;
  window.ForEach([&](std::uint64_t command_id, std::uint64_t fingerprint, const RememberedOutcome& o) {
    std::byte* e = entries + w * kSnapshotWindowEntrySize;
    std::memcpy(e, &command_id, 8);
    std::memcpy(e + 8, &fingerprint, 8);
    std::memcpy(e + 16, &o, sizeof o);
    ++w;
  });
  return h;
}

// What start-up expects of a snapshot.
struct SnapshotExpect {
  std::uint64_t schema_fingerprint = 0;
  std::uint64_t build_id = 0;
  std::uint64_t journal_end = 0;  // the last committed position after the journal's recovery
};

struct FoundSnapshot {
  std::string path;
  SnapshotHeader header{};
  std::vector<std::byte> payload;
};

// Recomputes the digest of a payload's aggregates (without loading them anywhere).
template <typename D>
std::uint64_t PayloadDigest(const SnapshotHeader& h, std::span<const std::byte> payload) {
  using State = typename D::State;
  const std::byte* ids = payload.data();
  const std::byte* versions = ids + h.aggregates * 8;
  const std::byte* states = versions + h.aggregates * 8;
  StateDigest digest;
  for (std::uint64_t i = 0; i < h.aggregates; ++i) {
    std::uint64_t id, version;
    State s;
    std::memcpy(&id, ids + i * 8, 8);
    std::memcpy(&version, versions + i * 8, 8);
    std::memcpy(static_cast<void*>(&s), states + i * sizeof(State), sizeof(State));
    digest.Add(AggregateHash<D>(id, version, s));
  }
  return digest.value();
}

// Why a file that is intact cannot be used here, or "".
template <typename D>
std::string SnapshotMismatch(const SnapshotHeader& h, std::span<const std::byte> payload, const SnapshotExpect& e) {
  if (h.schema_fingerprint != e.schema_fingerprint) return "written for another schema fingerprint";
  if (h.state_size != sizeof(typename D::State) || h.state_align != alignof(typename D::State))
    return "state of " + std::to_string(h.state_size) + " bytes, this domain's has " +
           std::to_string(sizeof(typename D::State));
  if (h.build_id != e.build_id) return "written by another build (domain, compiler or domain_version differ)";
  if (h.position > e.journal_end)
    return "position " + std::to_string(h.position) + " is beyond the journal's end " + std::to_string(e.journal_end) +
           " (lost after a crash?)";
  if (PayloadDigest<D>(h, payload) != h.digest) return "its aggregates do not match its recorded digest";
  return "";
}

// The newest usable snapshot in dir; each skipped file adds "snapshot <path> skipped: <why>"
// to *notes. nullopt: none (a full replay).
template <typename D>
std::optional<FoundSnapshot> FindSnapshot(const std::string& dir, const SnapshotExpect& expect,
                                          std::vector<std::string>* notes) {
  for (const SnapshotFileEntry& f : ListSnapshotFiles(dir)) {
    FoundSnapshot found;
    found.path = f.path;
    std::string why = ReadSnapshotFile(f.path, f.position, &found.header, &found.payload);
    if (why.empty()) why = SnapshotMismatch<D>(found.header, found.payload, expect);
    if (!why.empty()) {
      if (notes) notes->push_back("snapshot " + f.path + " skipped: " + why);
      continue;
    }
    return found;
  }
  return std::nullopt;
}

// Loads a checked snapshot into a processor that has seen nothing yet.
template <typename D>
Status ApplySnapshot(const SnapshotHeader& h, std::span<const std::byte> payload, CommandProcessor<D>* p) {
  using State = typename D::State;
  auto& store = p->store();
  if (store.size() != 0) return Status::InvalidArgument("ApplySnapshot needs an empty processor");
  store.reserve(h.aggregates);
  const std::byte* ids = payload.data();
  const std::byte* versions = ids + h.aggregates * 8;
  const std::byte* states = versions + h.aggregates * 8;
  const std::byte* entries = states + (h.aggregates * sizeof(State) + 7) / 8 * 8;
  for (std::uint64_t i = 0; i < h.aggregates; ++i) {
    std::uint64_t id, version;
    std::memcpy(&id, ids + i * 8, 8);
    std::memcpy(&version, versions + i * 8, 8);
    const auto idx = store.FindOrInsert(id);
    if (store.version(idx) != 0) return Status::Corruption("snapshot lists aggregate " + std::to_string(id) + " twice");
    std::memcpy(static_cast<void*>(&store.mutable_state(idx)), states + i * sizeof(State), sizeof(State));
    store.set_version(idx, version);
  }
  IdempotencyWindow& window = p->window();
  for (std::uint64_t i = 0; i < h.window_entries; ++i) {
    const std::byte* e = entries + i * kSnapshotWindowEntrySize;
    std::uint64_t command_id, fingerprint;
    RememberedOutcome o;
    std::memcpy(&command_id, e, 8);
    std::memcpy(&fingerprint, e + 8, 8);
    std::memcpy(static_cast<void*>(&o), e + 16, sizeof o);
    window.Remember(command_id, fingerprint, o);
  }
  p->RestoreDigest(h.digest);
  return Status::OK();
}

template <typename D>
Status ApplySnapshot(const FoundSnapshot& f, CommandProcessor<D>* p) {
  return ApplySnapshot<D>(f.header, f.payload, p);
}

}  // namespace rill::engine
