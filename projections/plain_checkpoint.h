// rill/projections/plain_checkpoint.h: checkpoints for read models whose whole state is plain
// containers of trivially copyable records, so the model's author writes Apply and nothing else.
//
//   class OpenOrders : public rill::projections::PlainCheckpoint<OpenOrders> {
//    public:
//     static constexpr std::string_view kName = "shop.open_orders";
//     static constexpr std::uint32_t kVersion = 1;  // bump when Order or SkuTotals change layout
//     const char* Apply(const rill::codecs::DecodedEvent& e);
//     std::optional<Order> Get(std::uint64_t id) const { return orders_.Get(id); }
//     auto PlainState() { return std::tie(orders_, per_sku_); }  // what Save/Load cover, in order
//    private:
//     SeqlockHashMap<Order> orders_;
//     ChunkedArray<Seqlocked<SkuTotals>> per_sku_{1 << 20};
//   };
//
// PlainCheckpoint<M> gives M the Save and Load the ReadModel concept asks for (read_model.h),
// nothing else: no registration, no reflection. They cover the containers PlainState() names:
//   SeqlockHashMap<R>                  tag 1, sizeof(R), count, then (key, R's words) per key
//   ChunkedArray<Seqlocked<T>, B>      tag 2, sizeof(T), 2^B, max_ids, chunk count, then per
//                                      allocated chunk its first id and every record's words
//   ChunkedArray<SeqlockWords<N>, B>   tag 3, 8N, then as tag 2
// as little-endian u64 words (PutU64), in PlainState() order. Load checks each container's tag
// and record size and says which container differs; a record whose layout changed must come
// with a new kVersion (then old checkpoints are skipped and the view rebuilds), since a same-size
// change cannot be told apart. State kept anywhere else (a writer-private vector, a counter) is
// not saved: such a model writes its own Save/Load, and may call SavePlain/LoadPlain from them.
//
// Thread safety: as the model's Save/Load (projector thread, between batches; Load on a fresh
// model before the projector starts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "rill/base/result.h"
#include "rill/base/status.h"
#include "rill/projections/chunked_array.h"
#include "rill/projections/read_model.h"
#include "rill/projections/seqlock.h"
#include "rill/projections/seqlock_hash_map.h"

namespace rill::projections {

// How one container is written to and read from a checkpoint payload. Specialised below for
// the supported containers; anything else is a compile error naming them.
template <typename Container>
struct PlainContainer {
  static_assert(sizeof(Container) == 0,
                "PlainState() may name only SeqlockHashMap<R>, ChunkedArray<Seqlocked<T>> or "
                "ChunkedArray<SeqlockWords<N>>; write Save/Load by hand for other state");
};

namespace plain_detail {

inline Status Mismatch(std::string_view model, std::size_t index, const std::string& what) {
  return Status::InvalidArgument("checkpoint of '" + std::string(model) + "', container " + std::to_string(index) +
                                 " of PlainState(): " + what);
}

template <typename T>
void PutValue(std::vector<std::byte>& out, const T& v) {
  std::uint64_t w[(sizeof(T) + 7) / 8] = {};
  std::memcpy(w, &v, sizeof(T));
  for (std::uint64_t x : w) PutU64(out, x);
}
template <typename T>
bool GetValue(ByteReader& in, T* v) {
  std::uint64_t w[(sizeof(T) + 7) / 8];
  for (std::uint64_t& x : w)
    if (!in.U64(&x)) return false;
  std::memcpy(static_cast<void*>(v), w, sizeof(T));
  return true;
}

// The header shared by the chunked layouts (tags 2 and 3).
template <typename Array>
void SaveChunked(std::vector<std::byte>& out, const Array& a, std::uint64_t tag, std::uint64_t record_bytes) {
  PutU64(out, tag);
  PutU64(out, record_bytes);
  PutU64(out, Array::kChunkSize);
  PutU64(out, a.max_ids());
  PutU64(out, a.chunks());
}
template <typename Array>
Status LoadChunkedHeader(ByteReader& in, const Array& a, std::uint64_t tag, std::uint64_t record_bytes,
                         std::string_view model, std::size_t index, std::uint64_t* chunks) {
  std::uint64_t h[5];
  for (std::uint64_t& x : h)
    if (!in.U64(&x)) return Status::Corruption("checkpoint of '" + std::string(model) + "': truncated");
  if (h[0] != tag) return Mismatch(model, index, "saved as another kind of container");
  if (h[1] != record_bytes)
    return Mismatch(model, index,
                    "records of " + std::to_string(h[1]) + " bytes, this build's have " + std::to_string(record_bytes) +
                        "; bump the model's kVersion when a record changes");
  if (h[2] != Array::kChunkSize || h[3] != a.max_ids())
    return Mismatch(model, index, "saved with another chunk size or max_ids");
  *chunks = h[4];
  return Status::OK();
}

}  // namespace plain_detail

template <typename R>
struct PlainContainer<SeqlockHashMap<R>> {
  static constexpr std::uint64_t kTag = 1;
  static void Save(std::vector<std::byte>& out, const SeqlockHashMap<R>& m) {
    PutU64(out, kTag);
    PutU64(out, sizeof(R));
    PutU64(out, m.size());
    out.reserve(out.size() + m.size() * 8 * (1 + SeqlockHashMap<R>::kRecordWords));
    m.ForEach([&](std::uint64_t key, const R& r) {  // on the writer thread: each key exactly once
      PutU64(out, key);
      plain_detail::PutValue(out, r);
    });
  }
  static Status Load(ByteReader& in, SeqlockHashMap<R>& m, std::string_view model, std::size_t index) {
    std::uint64_t tag = 0, bytes = 0, count = 0;
    if (!in.U64(&tag) || !in.U64(&bytes) || !in.U64(&count))
      return Status::Corruption("checkpoint of '" + std::string(model) + "': truncated");
    if (tag != kTag) return plain_detail::Mismatch(model, index, "saved as another kind of container");
    if (bytes != sizeof(R))
      return plain_detail::Mismatch(model, index,
                                    "records of " + std::to_string(bytes) + " bytes, this build's have " +
                                        std::to_string(sizeof(R)) +
                                        "; bump the model's kVersion when a record changes");
    const std::uint64_t entry = 8 * (1 + SeqlockHashMap<R>::kRecordWords);
    if (count > in.remaining() / entry)
      return Status::Corruption("checkpoint of '" + std::string(model) + "': more keys than bytes");
    m.Reserve(count);
    for (std::uint64_t n = 0; n < count; ++n) {
      std::uint64_t key = 0;
      R r;
      if (!in.U64(&key) || !plain_detail::GetValue(in, &r))
        return Status::Corruption("checkpoint of '" + std::string(model) + "': truncated");
      m.Put(key, r);
    }
    return Status::OK();
  }
};

template <typename T, unsigned B>
struct PlainContainer<ChunkedArray<Seqlocked<T>, B>> {
  using Array = ChunkedArray<Seqlocked<T>, B>;
  static constexpr std::uint64_t kTag = 2;
  static void Save(std::vector<std::byte>& out, const Array& a) {
    plain_detail::SaveChunked(out, a, kTag, sizeof(T));
    a.ForEachChunk([&](std::uint64_t first, const typename Array::Chunk& c) {
      PutU64(out, first);
      for (const Seqlocked<T>& cell : c.records) plain_detail::PutValue(out, cell.OwnValue());
    });
  }
  static Status Load(ByteReader& in, Array& a, std::string_view model, std::size_t index) {
    std::uint64_t chunks = 0;
    RILL_RETURN_IF_ERROR(plain_detail::LoadChunkedHeader(in, a, kTag, sizeof(T), model, index, &chunks));
    for (std::uint64_t n = 0; n < chunks; ++n) {
      std::uint64_t first = 0;
      if (!in.U64(&first) || first % Array::kChunkSize != 0 || first >= a.max_ids())
        return Status::Corruption("checkpoint of '" + std::string(model) + "': bad chunk id");
      for (std::size_t k = 0; k < Array::kChunkSize; ++k) {
        T v;
        if (!plain_detail::GetValue(in, &v))
          return Status::Corruption("checkpoint of '" + std::string(model) + "': truncated chunk");
        a.GetOrCreate(first + k)->Store(v);
      }
    }
    return Status::OK();
  }
};

template <std::size_t N, unsigned B>
struct PlainContainer<ChunkedArray<SeqlockWords<N>, B>> {
  using Array = ChunkedArray<SeqlockWords<N>, B>;
  static constexpr std::uint64_t kTag = 3;
  static void Save(std::vector<std::byte>& out, const Array& a) {
    plain_detail::SaveChunked(out, a, kTag, 8 * N);
    a.ForEachChunk([&](std::uint64_t first, const typename Array::Chunk& c) {
      PutU64(out, first);
      for (const SeqlockWords<N>& cell : c.records)
        for (std::size_t i = 0; i < N; ++i) PutU64(out, cell.OwnWord(i));
    });
  }
  static Status Load(ByteReader& in, Array& a, std::string_view model, std::size_t index) {
    std::uint64_t chunks = 0;
    RILL_RETURN_IF_ERROR(plain_detail::LoadChunkedHeader(in, a, kTag, 8 * N, model, index, &chunks));
    for (std::uint64_t n = 0; n < chunks; ++n) {
      std::uint64_t first = 0;
      if (!in.U64(&first) || first % Array::kChunkSize != 0 || first >= a.max_ids())
        return Status::Corruption("checkpoint of '" + std::string(model) + "': bad chunk id");
      for (std::size_t k = 0; k < Array::kChunkSize; ++k) {
        std::uint64_t w[N];
        for (std::uint64_t& x : w)
          if (!in.U64(&x)) return Status::Corruption("checkpoint of '" + std::string(model) + "': truncated chunk");
        SeqlockWords<N>& cell = *a.GetOrCreate(first + k);
        cell.BeginWrite();
        for (std::size_t i = 0; i < N; ++i) cell.WriteWord(i, w[i]);
        cell.EndWrite();
      }
    }
    return Status::OK();
  }
};

// Appends each container's layout (above) to out, in order.
template <typename... Containers>
void SavePlain(std::vector<std::byte>& out, const Containers&... containers) {
  (PlainContainer<Containers>::Save(out, containers), ...);
}

// Reads what SavePlain wrote into fresh containers; `model` names the view in errors.
template <typename... Containers>
Status LoadPlain(ByteReader& in, std::string_view model, Containers&... containers) {
  Status s;
  std::size_t index = 0;
  ((s = s.ok() ? PlainContainer<Containers>::Load(in, containers, model, index++) : s), ...);
  return s;
}

// CRTP base: Save/Load of the containers Derived::PlainState() names (see the top of this file).
template <typename Derived>
class PlainCheckpoint {
 public:
  void Save(std::vector<std::byte>& out) const {
    out.clear();
    std::apply([&](auto&... c) { SavePlain(out, c...); }, Self().PlainState());
  }
  Status Load(std::span<const std::byte> in) {
    ByteReader r(in);
    Status s = std::apply([&](auto&... c) { return LoadPlain(r, Derived::kName, c...); }, Self().PlainState());
    if (s.ok() && !r.done())
      return Status::Corruption("checkpoint of '" + std::string(Derived::kName) +
                                "' has bytes after its PlainState() containers (written by another layout?)");
    return s;
  }

 protected:
  PlainCheckpoint() = default;

 private:
  // Save only reads; the const_cast lets the model write one non-const PlainState() (std::tie
  // of its members) for both. Models are never const objects: the projector owns them.
  Derived& Self() const {
    static_assert(
        requires(Derived & d) { std::tuple_size<decltype(d.PlainState())>::value; },
        "PlainCheckpoint<M>: M must define `auto PlainState() { return std::tie(containers...); }`");
    return const_cast<Derived&>(static_cast<const Derived&>(*this));
  }
};

}  // namespace rill::projections
