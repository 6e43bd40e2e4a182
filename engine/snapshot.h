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
// its kinds and their states' sizes and alignments match, its position is not beyond the journal's end, and the
// digest of its aggregates equals the one it recorded. Otherwise the next older one is tried;
// none usable means a full replay.
// Thread safety: FindSnapshot is reentrant; Encode/Apply run on the processor's owner thread.
#pragma once

#include <array>
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
#include "rill/engine/domain_kinds.h"
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

// Which code wrote a snapshot: the domain's name, its states' sizes and alignments (each kind's),
// the compiler and the application's own `domain_version` (EngineOptions::snapshot.domain_version:
// bump it when Evolve changes meaning, so snapshots of the old code are replayed instead of trusted).
template <typename D>
std::uint64_t SnapshotBuildId(std::uint64_t domain_version) {
  Fingerprinter f;
  snapshot_internal::AddText(f, snapshot_internal::DomainName<D>());
  snapshot_internal::AddText(f, __VERSION__);
  ForEachKind<D>([&](auto kc) {
    f.Add(sizeof(KindAt<D, kc.value>));
    f.Add(alignof(KindAt<D, kc.value>));
  });
  f.Add(domain_version);
  return f.Finish();
}

namespace snapshot_internal {

// One kind's section of a payload (snapshot_file.h): ids, versions, states padded to 8.
struct Section {
  std::uint64_t count = 0;
  std::size_t offset = 0;  // of the ids, from the payload's start
  std::uint64_t SizeFor(std::size_t state_size) const { return count * 16 + (count * state_size + 7) / 8 * 8; }
};

// The sections of D's kinds in a payload that ReadSnapshotFile accepted and whose kind count
// matches D: format 1 (one kind, no table) or format 2 (the kind table first).
template <typename D>
std::array<Section, kKindCount<D>> Sections(const SnapshotHeader& h, std::span<const std::byte> payload) {
  std::array<Section, kKindCount<D>> out{};
  if (h.kinds == 0) {
    out[0] = Section{h.aggregates, 0};
    return out;
  }
  std::size_t at = h.kinds * kSnapshotKindEntrySize;
  ForEachKind<D>([&](auto kc) {
    std::memcpy(&out[kc.value].count, payload.data() + kc.value * kSnapshotKindEntrySize, 8);
    out[kc.value].offset = at;
    at += out[kc.value].SizeFor(sizeof(KindAt<D, kc.value>));
  });
  return out;
}

template <typename D>
std::size_t WindowOffset(const SnapshotHeader& h, std::span<const std::byte> payload) {
  const auto sections = Sections<D>(h, payload);
  const Section& last = sections.back();
  return last.offset + last.SizeFor(sizeof(KindAt<D, kKindCount<D> - 1>));
}

// fn(id, version, const K&) for every aggregate of kind K's section.
template <typename K, typename Fn>
void ForEachIn(const Section& s, std::span<const std::byte> payload, Fn&& fn) {
  const std::byte* ids = payload.data() + s.offset;
  const std::byte* versions = ids + s.count * 8;
  const std::byte* states = versions + s.count * 8;
  for (std::uint64_t i = 0; i < s.count; ++i) {
    std::uint64_t id, version;
    K state;
    std::memcpy(&id, ids + i * 8, 8);
    std::memcpy(&version, versions + i * 8, 8);
    std::memcpy(static_cast<void*>(&state), states + i * sizeof(K), sizeof(K));
    fn(id, version, state);
  }
}

}  // namespace snapshot_internal

// Serializes p's aggregates and window into *payload (reused: no allocation once it is big
// enough) and returns a header with the counts and the digest; the caller sets position,
// schema_fingerprint and build_id. One kind: format 1, byte for byte as before kinds existed;
// several: format 2, a kind table and one section per kind (snapshot_file.h).
template <typename D>
SnapshotHeader EncodeSnapshot(const CommandProcessor<D>& p, std::vector<std::byte>* payload) {
  constexpr bool kTable = kKindCount < D >> 1;
  const IdempotencyWindow& window = p.window();
  SnapshotHeader h{};
  h.kinds = kTable ? static_cast<std::uint32_t>(kKindCount<D>) : 0;
  h.state_size = kTable ? 0 : static_cast<std::uint32_t>(sizeof(KindAt<D, 0>));
  h.state_align = kTable ? 0 : static_cast<std::uint32_t>(alignof(KindAt<D, 0>));
  h.aggregates = p.aggregate_count();
  h.window_entries = window.size();
  std::size_t size = h.kinds * kSnapshotKindEntrySize + h.window_entries * kSnapshotWindowEntrySize;
  ForEachKind<D>([&](auto kc) {
    size += snapshot_internal::Section{std::get<kc.value>(p.stores()).size(), 0}.SizeFor(sizeof(KindAt<D, kc.value>));
  });
  payload->resize(size);
  std::size_t at = h.kinds * kSnapshotKindEntrySize;
  StateDigest digest;
  ForEachKind<D>([&](auto kc) {
    using K = KindAt<D, kc.value>;
    const auto& store = std::get<kc.value>(p.stores());
    const std::uint64_t n = store.size();
    if constexpr (kTable) {
      std::byte* entry = payload->data() + kc.value * kSnapshotKindEntrySize;
      const std::uint32_t size_align[2] = {static_cast<std::uint32_t>(sizeof(K)),
                                           static_cast<std::uint32_t>(alignof(K))};
      std::memcpy(entry, &n, 8);
      std::memcpy(entry + 8, size_align, 8);
    }
    std::byte* ids = payload->data() + at;
    std::byte* versions = ids + n * 8;
    std::byte* states = versions + n * 8;
    const std::size_t section = snapshot_internal::Section{n, 0}.SizeFor(sizeof(K));
    std::memset(states, 0, section - n * 16);  // the pad to 8
    std::size_t i = 0;
    store.ForEach([&](std::uint64_t id, std::uint64_t version, const K& s) {
      std::memcpy(ids + i * 8, &id, 8);
      std::memcpy(versions + i * 8, &version, 8);
      std::memcpy(states + i * sizeof(K), &s, sizeof(K));
      digest.Add(KindAggregateHash<D>(kc.value, id, version, s));
      ++i;
    });
    at += section;
  });
  h.digest = digest.value();
  std::size_t w = 0;
  window.ForEach([&](std::uint64_t command_id, std::uint64_t fingerprint, const RememberedOutcome& o) {
    std::byte* e = payload->data() + at + w * kSnapshotWindowEntrySize;
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
// REQUIRES: SnapshotLayoutMismatch<D> found nothing.
template <typename D>
std::uint64_t PayloadDigest(const SnapshotHeader& h, std::span<const std::byte> payload) {
  const auto sections = snapshot_internal::Sections<D>(h, payload);
  StateDigest digest;
  ForEachKind<D>([&](auto kc) {
    using K = KindAt<D, kc.value>;
    snapshot_internal::ForEachIn<K>(sections[kc.value], payload, [&](std::uint64_t id, std::uint64_t v, const K& s) {
      digest.Add(KindAggregateHash<D>(kc.value, id, v, s));
    });
  });
  return digest.value();
}

// Why the kinds and state layouts of a file that is intact are not D's, or "".
template <typename D>
std::string SnapshotLayoutMismatch(const SnapshotHeader& h, std::span<const std::byte> payload) {
  if constexpr (kKindCount<D> == 1) {
    using State = KindAt<D, 0>;
    if (h.kinds != 0) return "written for a domain with " + std::to_string(h.kinds) + " aggregate kinds";
    if (h.state_size != sizeof(State) || h.state_align != alignof(State))
      return "state of " + std::to_string(h.state_size) + " bytes, this domain's has " + std::to_string(sizeof(State));
    return "";
  } else {
    if (h.kinds != kKindCount<D>)
      return "written for a domain with " + std::to_string(h.kinds == 0 ? 1 : h.kinds) +
             " aggregate kinds, this one has " + std::to_string(kKindCount<D>);
    std::string why;
    ForEachKind<D>([&](auto kc) {
      using K = KindAt<D, kc.value>;
      std::uint32_t size_align[2];
      std::memcpy(size_align, payload.data() + kc.value * kSnapshotKindEntrySize + 8, 8);
      if (why.empty() && (size_align[0] != sizeof(K) || size_align[1] != alignof(K)))
        why = "kind " + std::string(KindName<K>()) + " has states of " + std::to_string(size_align[0]) +
              " bytes, this domain's has " + std::to_string(sizeof(K));
    });
    return why;
  }
}

// Why a file that is intact cannot be used here, or "".
template <typename D>
std::string SnapshotMismatch(const SnapshotHeader& h, std::span<const std::byte> payload, const SnapshotExpect& e) {
  if (h.schema_fingerprint != e.schema_fingerprint) return "written for another schema fingerprint";
  if (std::string why = SnapshotLayoutMismatch<D>(h, payload); !why.empty()) return why;
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
  if (p->aggregate_count() != 0) return Status::InvalidArgument("ApplySnapshot needs an empty processor");
  if (std::string why = SnapshotLayoutMismatch<D>(h, payload); !why.empty())
    return Status::InvalidArgument("snapshot " + why);
  const auto sections = snapshot_internal::Sections<D>(h, payload);
  Status status;
  ForEachKind<D>([&](auto kc) {
    using K = KindAt<D, kc.value>;
    auto& store = std::get<kc.value>(p->stores());
    store.reserve(sections[kc.value].count);
    snapshot_internal::ForEachIn<K>(sections[kc.value], payload, [&](std::uint64_t id, std::uint64_t v, const K& s) {
      const auto idx = store.FindOrInsert(id);
      if (store.version(idx) != 0 && status.ok())
        status = Status::Corruption("snapshot lists aggregate " + std::to_string(id) + " twice");
      std::memcpy(static_cast<void*>(&store.mutable_state(idx)), &s, sizeof(K));
      store.set_version(idx, v);
    });
  });
  RILL_RETURN_IF_ERROR(status);
  const std::byte* entries = payload.data() + snapshot_internal::WindowOffset<D>(h, payload);
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
