// rill/engine/idempotency_window.h: the outcomes of the most recent N command ids, so that a
// retried command is answered with its original outcome instead of being applied twice.
//
//   rill::engine::IdempotencyWindow window(1 << 20);          // all allocation happens here
//   auto hit = window.Check(meta.command_id, fingerprint);
//   if (hit.kind == IdempotencyWindow::kDuplicate) return hit.outcome->ToOutcome();   // not applied again
//   if (hit.kind == IdempotencyWindow::kMismatch) return Reject(kDuplicateCommandMismatch);
//   ... apply ...
//   window.Remember(meta.command_id, fingerprint, RememberedOutcome::From(outcome));
//   // Recovery: replay calls Remember for every command found in the journal.
//
// Bounded: at capacity, remembering a new id forgets the oldest (FIFO), so the guarantee holds
// for a retry that comes within the last `capacity` commands. Layout: a FIFO ring of entries
// (id, fingerprint, outcome) in arrival order, and an open-addressing index (8-byte slots:
// ring position + 32 hash bits) at most half full; eviction deletes by backward shift, so
// there are no tombstones and probes stay short forever.
// A fingerprint of kUnknownFingerprint (an entry rebuilt from a journal that does not record
// fingerprints) matches any payload: the retry gets the original outcome, as it should, but a
// reused id with another payload cannot be detected for that entry.
// Thread safety: single-writer, like the aggregate store (the writer thread only).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "rill/engine/command_outcome.h"
#include "rill/engine/fingerprint.h"
#include "rill/engine/huge_page_allocator.h"
#include "rill/engine/prefetch.h"

namespace rill::engine {

// An outcome in 32 bytes: what a duplicate is answered with. A rejection keeps its codes, not
// its message (the duplicate's message says so).
struct RememberedOutcome {
  std::uint64_t position = 0;
  std::uint64_t stream_id = 0;
  std::uint64_t stream_version = 0;
  std::uint16_t event_count = 0;  // Domain::kMaxEvents is at most 255
  RejectCode code = RejectCode::kNone;
  std::uint8_t unused = 0;
  std::uint32_t domain_code = 0;

  static RememberedOutcome From(const CommandOutcome& o) noexcept {
    RememberedOutcome r;
    if (o.accepted()) {
      r.position = o.position();
      r.stream_id = o.stream_id();
      r.stream_version = o.stream_version();
      r.event_count = static_cast<std::uint16_t>(o.event_count());
    } else {
      r.code = o.code();
      r.domain_code = o.rejection().domain_code;
      r.stream_version = o.rejection().actual_version;
    }
    return r;
  }
  CommandOutcome ToOutcome() const noexcept {
    CommandOutcome o =
        code == RejectCode::kNone
            ? CommandOutcome::Accepted(position, stream_id, stream_version, event_count)
            : CommandOutcome::Rejected(Rejection::Format(code, domain_code,
                                                         "%s (the original outcome of this command id; its message "
                                                         "is not kept)",
                                                         RejectCodeName(code)));
    o.set_duplicate(true);
    return o;
  }
};

static_assert(sizeof(RememberedOutcome) == 32, "ring entries are 48 bytes: id, fingerprint, outcome");

class IdempotencyWindow {
 public:
  enum Kind : std::uint8_t { kNew, kDuplicate, kMismatch };
  struct Hit {
    Kind kind = kNew;
    const RememberedOutcome* outcome = nullptr;  // kDuplicate / kMismatch: valid until Remember
  };

  // REQUIRES: 1 <= capacity < 2^31.
  explicit IdempotencyWindow(std::size_t capacity) : ring_(capacity), capacity_(capacity) {
    assert(capacity >= 1 && capacity < (std::size_t{1} << 31));
    std::size_t slots = 16;
    while (slots < capacity * 2) slots *= 2;
    slots_.assign(slots, Slot{kEmpty, 0});
    mask_ = slots - 1;
    shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(slots));
  }
  IdempotencyWindow(const IdempotencyWindow&) = delete;
  IdempotencyWindow& operator=(const IdempotencyWindow&) = delete;

  // kNew when the id is not in the window; kDuplicate when it is with the same fingerprint (or
  // either is unknown); kMismatch when it is with another fingerprint.
  Hit Check(std::uint64_t command_id, std::uint64_t fingerprint) const noexcept {
    const std::uint32_t pos = FindPos(command_id);
    if (pos == kEmpty) return {};
    const Entry& e = ring_[pos];
    const bool same =
        e.fingerprint == fingerprint || e.fingerprint == kUnknownFingerprint || fingerprint == kUnknownFingerprint;
    return {same ? kDuplicate : kMismatch, &e.outcome};
  }

  // Records (or, for an id already present, replaces) the outcome of command_id. At capacity
  // the oldest id is forgotten first.
  void Remember(std::uint64_t command_id, std::uint64_t fingerprint, const RememberedOutcome& outcome) noexcept {
    if (const std::uint32_t pos = FindPos(command_id); pos != kEmpty) {
      ring_[pos].fingerprint = fingerprint;
      ring_[pos].outcome = outcome;
      return;
    }
    if (size_ == capacity_) Evict(static_cast<std::uint32_t>(head_));
    const auto pos = static_cast<std::uint32_t>(head_);
    Entry& e = ring_[pos];  // field by field: a temporary Entry would be copied through the stack
    e.command_id = command_id;
    e.fingerprint = fingerprint;
    e.outcome = outcome;
    head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
    if (size_ < capacity_) ++size_;
    const std::uint64_t h = Hash(command_id);
    std::size_t s = h >> shift_;
    while (slots_[s].pos != kEmpty) s = (s + 1) & mask_;
    slots_[s] = Slot{pos, static_cast<std::uint32_t>(h >> 32)};
  }

  void Prefetch(std::uint64_t command_id) const noexcept {
    ::rill::engine::Prefetch(&slots_[Hash(command_id) >> shift_]);
  }
  // Starts fetching what the Remember `ahead` calls from now will write: its ring entry and,
  // once the window is full, the index slot of the id it evicts (the ring is read in order, so
  // finding that id is cheap; its slot is a random access).
  void PrefetchRemember(std::size_t ahead) const noexcept {
    std::size_t pos = head_ + ahead;
    if (pos >= capacity_) pos %= capacity_;
    PrefetchForWrite(&ring_[pos]);
    if (size_ + ahead >= capacity_) ::rill::engine::Prefetch(&slots_[Hash(ring_[pos].command_id) >> shift_]);
  }

  // fn(command_id, fingerprint, const RememberedOutcome&) for every entry, oldest first, so
  // that Remember-ing them in this order rebuilds the same window (snapshots).
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    std::size_t pos = (head_ + capacity_ - size_) % capacity_;
    for (std::size_t i = 0; i < size_; ++i) {
      const Entry& e = ring_[pos];
      fn(e.command_id, e.fingerprint, e.outcome);
      pos = pos + 1 == capacity_ ? 0 : pos + 1;
    }
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t memory_bytes() const noexcept { return ring_.size() * sizeof(Entry) + slots_.size() * sizeof(Slot); }

 private:
  static constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();
  struct Entry {
    std::uint64_t command_id = 0;
    std::uint64_t fingerprint = 0;
    RememberedOutcome outcome;
  };
  // tag: the top 32 bits of the id's hash. Since the table has at most 2^32 slots, the slot
  // an entry wants (its home) is tag >> (32 - log2 slots): deletion needs no ring access.
  struct Slot {
    std::uint32_t pos;  // ring position, kEmpty when free
    std::uint32_t tag;
  };
  static_assert(sizeof(Slot) == 8);

  static std::uint64_t Hash(std::uint64_t id) noexcept { return id * 0x9E3779B97F4A7C15ULL; }
  std::size_t HomeOfTag(std::uint32_t tag) const noexcept {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(tag) << 32) >> shift_);
  }

  std::uint32_t FindPos(std::uint64_t command_id) const noexcept {
    const std::uint64_t h = Hash(command_id);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t s = h >> shift_;; s = (s + 1) & mask_) {
      const Slot slot = slots_[s];
      if (slot.pos == kEmpty) return kEmpty;
      if (slot.tag == tag && ring_[slot.pos].command_id == command_id) return slot.pos;
    }
  }

  // Removes the index slot that points at ring position `pos` (the oldest entry), then shifts
  // later members of the probe run back so that no lookup ever meets a hole before its key.
  void Evict(std::uint32_t pos) noexcept {
    const std::uint64_t h = Hash(ring_[pos].command_id);
    std::size_t s = h >> shift_;
    while (slots_[s].pos != pos) s = (s + 1) & mask_;
    --size_;
    for (std::size_t next = (s + 1) & mask_;; next = (next + 1) & mask_) {
      const Slot slot = slots_[next];
      if (slot.pos == kEmpty) break;
      // Move `slot` into the hole at s unless its home lies cyclically in (s, next].
      const std::size_t home = HomeOfTag(slot.tag);
      const bool home_after_hole = s <= next ? (home > s && home <= next) : (home > s || home <= next);
      if (home_after_hole) continue;
      slots_[s] = slot;
      s = next;
    }
    slots_[s] = Slot{kEmpty, 0};
  }

  std::vector<Entry, HugePageAllocator<Entry>> ring_;
  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  std::size_t capacity_;
  std::size_t head_ = 0;  // the next ring position to write; at capacity, also the oldest entry
  std::size_t size_ = 0;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
};

}  // namespace rill::engine
