#include "rill/observability/process_identity.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace rill::observability {

std::optional<std::uint64_t> ProcessStartTicks(std::int64_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%lld/stat", static_cast<long long>(pid));
  std::FILE* f = std::fopen(path, "re");
  if (f == nullptr) return std::nullopt;
  char buf[1024];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // Field 2, the command name, is in parentheses and may hold spaces or ')': count fields from
  // the last ')'. Field 3 follows it; field 22 is the start time.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return std::nullopt;
  ++p;
  for (int field = 3; field < 22; ++field) {
    p = std::strchr(p + 1, ' ');
    if (p == nullptr) return std::nullopt;
  }
  char* end = nullptr;
  const unsigned long long ticks = std::strtoull(p + 1, &end, 10);
  if (end == p + 1) return std::nullopt;
  return ticks;
}

bool ProcessAlive(std::int64_t pid, std::uint64_t start_ticks) {
  if (pid <= 0) return false;
  const std::optional<std::uint64_t> now = ProcessStartTicks(pid);
  return now.has_value() && *now == start_ticks;
}

}  // namespace rill::observability
