#include "rill/bench/e2e/script_path.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

namespace rill::bench {
namespace {

namespace fs = std::filesystem;

// <dir of the executable>/../share/rill/<name>; empty when the executable cannot be found.
std::string InstalledPath(const char* name) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return {};
  return (exe.parent_path() / ".." / "share" / "rill" / name).lexically_normal().string();
}

bool IsFile(const std::string& path) {
  std::error_code ec;
  return !path.empty() && fs::is_regular_file(path, ec);
}

}  // namespace

std::string FindScript(const ScriptLocation& where) {
  if (const char* env = where.env ? std::getenv(where.env) : nullptr; env != nullptr && *env != '\0') return env;
  if (where.source_path != nullptr && IsFile(where.source_path)) return where.source_path;
  const std::string installed = InstalledPath(where.name);
  if (!installed.empty()) return installed;
  return where.source_path != nullptr ? where.source_path : where.name;
}

std::string ScriptSearchNote(const ScriptLocation& where) {
  const char* env = where.env ? std::getenv(where.env) : nullptr;
  std::string note = "looked in $" + std::string(where.env ? where.env : "?") +
                     (env != nullptr && *env != '\0' ? " (" + std::string(env) + ")" : std::string(" (unset)"));
  if (where.source_path != nullptr) note += ", " + std::string(where.source_path);
  if (const std::string installed = InstalledPath(where.name); !installed.empty()) note += ", " + installed;
  return note + ": set " + (where.env ? where.env : "the variable") + " to the script's path";
}

}  // namespace rill::bench
