// rill/projections/read_model.h: what a read model must provide to be run by a ProjectorThread.
//
//   class Balances {
//    public:
//     static constexpr std::string_view kName = "bank.balances";
//     static constexpr std::uint32_t kVersion = 1;          // bump when Save's layout changes
//     const char* Apply(const rill::codecs::DecodedEvent& e);   // nullptr: ok; else why not
//     void Save(std::vector<std::byte>& out) const;         // checkpoint payload
//     rill::Status Load(std::span<const std::byte> in);     // from a checkpoint payload
//     void EndBatch(std::uint64_t position);                // optional: publish per batch
//   };
//
// Apply runs on the projector thread, once per event, in journal order, and must not allocate
// in steady state. It returns nullptr when the event was applied or does not concern the model
// (ignored events advance the position too), and a static string naming the problem when the
// event cannot be applied; the projector's FailurePolicy then decides (halt, skip, park).
// Save/Load run on the projector thread between batches; Load gets a fresh model.
//
// A model whose whole state is SeqlockHashMap / ChunkedArray containers of trivially copyable
// records need not write Save/Load: it derives from PlainCheckpoint<M> (plain_checkpoint.h) and
// names its containers in `auto PlainState() { return std::tie(a_, b_); }`.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "rill/base/status.h"
#include "rill/codecs/decoder.h"

namespace rill::projections {

template <typename M>
concept ReadModel = requires(M& m, const M& cm, const codecs::DecodedEvent& e, std::vector<std::byte>& out,
                             std::span<const std::byte> in) {
  { M::kName } -> std::convertible_to<std::string_view>;
  { M::kVersion } -> std::convertible_to<std::uint32_t>;
  { m.Apply(e) } -> std::same_as<const char*>;
  { cm.Save(out) } -> std::same_as<void>;
  { m.Load(in) } -> std::same_as<Status>;
};

// Helpers for Save/Load: plain little-endian words appended to / read from a byte buffer.
inline void PutU64(std::vector<std::byte>& out, std::uint64_t v) {
  const std::size_t n = out.size();
  out.resize(n + 8);
  for (int i = 0; i < 8; ++i) out[n + i] = static_cast<std::byte>(v >> (8 * i));
}
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> in) : in_(in) {}
  // False (and v untouched) when fewer than 8 bytes are left.
  bool U64(std::uint64_t* v) noexcept {
    if (in_.size() - at_ < 8) return false;
    std::uint64_t r = 0;
    for (int i = 0; i < 8; ++i) r |= std::uint64_t(static_cast<unsigned char>(in_[at_ + i])) << (8 * i);
    at_ += 8;
    *v = r;
    return true;
  }
  bool done() const noexcept { return at_ == in_.size(); }
  std::size_t remaining() const noexcept { return in_.size() - at_; }

 private:
  std::span<const std::byte> in_;
  std::size_t at_ = 0;
};

}  // namespace rill::projections
