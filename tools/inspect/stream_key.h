// rill/tools/inspect/stream_key.h: which stream an event belongs to, for tools: the aggregate
// kind its type names in the schema (rill_aggregate, "" in a one-kind domain) and the stream id.
// Kinds have their own id spaces, so "Order 17" and "Sku 17" are two streams.
//
//   KindNames kinds;
//   StreamKey key = kinds.KeyOf(decoded);            // {kind index, id}
//   std::string label = kinds.Label(key);            // "Order 17", or "stream 17"
//   auto want = ParseStreamSelector("Order:17");     // --stream KIND:ID or ID
//
// Thread safety: KindNames is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rill/codecs/decoder.h"

namespace rill::tools::inspect {

struct StreamKey {
  std::uint32_t kind = 0;  // index into KindNames; 0 = no kind
  std::uint64_t id = 0;
  bool operator==(const StreamKey&) const = default;
};

struct StreamKeyHash {
  std::size_t operator()(const StreamKey& k) const noexcept {
    return static_cast<std::size_t>((k.id ^ (std::uint64_t{k.kind} << 56)) * 0x9E3779B97F4A7C15ULL);
  }
};

// "Order 17" when the kind is named, "stream 17" otherwise.
std::string StreamLabel(std::string_view kind, std::uint64_t id);

class KindNames {
 public:
  StreamKey KeyOf(const codecs::DecodedEvent& e) { return {Intern(e.type().aggregate), e.stream_id()}; }
  std::string Label(const StreamKey& k) const { return StreamLabel(names_[k.kind], k.id); }

 private:
  std::uint32_t Intern(const std::string& kind) {
    if (kind.empty()) return 0;
    for (std::size_t i = 1; i < names_.size(); ++i)  // a domain has a handful of kinds
      if (names_[i] == kind) return static_cast<std::uint32_t>(i);
    names_.push_back(kind);
    return static_cast<std::uint32_t>(names_.size() - 1);
  }
  std::vector<std::string> names_{""};
};

// --stream's value: "ID" (any kind) or "KIND:ID". nullopt when it is neither.
struct StreamSelector {
  std::string kind;  // "" = any kind
  std::uint64_t id = 0;
  bool Matches(const codecs::DecodedEvent& e) const {
    return e.stream_id() == id && (kind.empty() || e.type().aggregate == kind);
  }
};
std::optional<StreamSelector> ParseStreamSelector(std::string_view text);

}  // namespace rill::tools::inspect
