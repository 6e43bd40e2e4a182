// rill/projections/chunked_array.h: a dense array indexed by id that grows without moving.
//
//   ChunkedArray<Record> records(/*max_ids=*/1 << 24);
//   Record& r = records.GetOrCreate(id);      // projector thread; allocates a chunk on first use
//   const Record* q = records.Find(id);       // any thread; nullptr when never created
//
// Records live in fixed-size chunks (4096 ids each) reached through a directory sized once at
// construction, so growth never moves a record a query may be reading, and lookups are two
// dependent loads with no hashing. Memory is allocated per 4096 ids, never per event.
//
// Thread safety: GetOrCreate/ForEachChunk from the one writer thread; Find from any thread.
// Records must be default-constructible into their empty state.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace rill::projections {

template <typename Record, unsigned kChunkBits = 12>
class ChunkedArray {
 public:
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
  struct Chunk {
    Record records[kChunkSize];
  };

  explicit ChunkedArray(std::uint64_t max_ids)
      : max_ids_(max_ids), directory_((max_ids + kChunkSize - 1) / kChunkSize) {}
  ~ChunkedArray() {
    for (auto& c : directory_) delete c.load(std::memory_order_relaxed);
  }
  ChunkedArray(const ChunkedArray&) = delete;
  ChunkedArray& operator=(const ChunkedArray&) = delete;

  std::uint64_t max_ids() const noexcept { return max_ids_; }

  // Any thread. Acquire: pairs with the release in GetOrCreate, so the chunk's constructed
  // (empty) records are visible before any query reads them.
  const Record* Find(std::uint64_t id) const noexcept {
    if (id >= max_ids_) return nullptr;
    const Chunk* c = directory_[id >> kChunkBits].load(std::memory_order_acquire);
    return c ? &c->records[id & (kChunkSize - 1)] : nullptr;
  }
  // Writer thread. nullptr when id >= max_ids (the caller reports it through its failure policy).
  Record* GetOrCreate(std::uint64_t id) {
    if (id >= max_ids_) return nullptr;
    std::atomic<Chunk*>& slot = directory_[id >> kChunkBits];
    Chunk* c = slot.load(std::memory_order_relaxed);  // own value: only this thread stores
    if (c == nullptr) [[unlikely]] {
      c = new Chunk();
      slot.store(c, std::memory_order_release);  // see Find
      ++chunks_;
    }
    return &c->records[id & (kChunkSize - 1)];
  }
  Record* FindMutable(std::uint64_t id) noexcept { return const_cast<Record*>(Find(id)); }

  // Writer thread: f(first_id, Chunk&) for each allocated chunk, in id order.
  template <typename F>
  void ForEachChunk(F&& f) const {
    for (std::size_t i = 0; i < directory_.size(); ++i)
      if (Chunk* c = directory_[i].load(std::memory_order_relaxed)) f(std::uint64_t{i} << kChunkBits, *c);
  }
  std::size_t chunks() const noexcept { return chunks_; }

 private:
  std::uint64_t max_ids_;
  std::vector<std::atomic<Chunk*>> directory_;  // written by the writer, read by queries
  std::size_t chunks_ = 0;
};

}  // namespace rill::projections
