#include "rill/tools/inspect/stream_key.h"

#include <charconv>

namespace rill::tools::inspect {

std::string StreamLabel(std::string_view kind, std::uint64_t id) {
  return (kind.empty() ? std::string("stream") : std::string(kind)) + " " + std::to_string(id);
}

std::optional<StreamSelector> ParseStreamSelector(std::string_view text) {
  StreamSelector s;
  if (const std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    s.kind = std::string(text.substr(0, colon));
    text.remove_prefix(colon + 1);
    if (s.kind.empty()) return std::nullopt;
  }
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, s.id);
  if (text.empty() || ec != std::errc() || p != end) return std::nullopt;
  return s;
}

}  // namespace rill::tools::inspect
