// rill/base/json_escape.h: a string as the inside of a JSON string literal (quote, backslash
// and control characters escaped), for the tools' and the bench's `--json` output.
// Thread safety: reentrant.
#pragma once

#include <string>
#include <string_view>

namespace rill {

std::string JsonEscape(std::string_view s);

}  // namespace rill
