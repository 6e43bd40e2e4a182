#include "rill/tools/inspect/checkpoints.h"

#include <cinttypes>
#include <vector>

#include "rill/projections/checkpoint.h"

namespace rill::tools::inspect {

std::string CheckpointDirectory(const std::string& journal_dir, const std::string& checkpoints_dir) {
  return checkpoints_dir.empty() ? journal_dir + "/checkpoints" : checkpoints_dir;
}

void PrintCheckpoints(const std::string& dir, std::uint64_t committed, std::uint64_t fingerprint, std::FILE* out) {
  const std::vector<projections::CheckpointFileInfo> files = projections::ListCheckpoints(dir);
  if (files.empty()) {
    std::fprintf(out, "checkpoints: none found in %s\n", dir.c_str());
    return;
  }
  std::fprintf(out, "checkpoints  %zu in %s\n", files.size(), dir.c_str());
  for (const auto& c : files) {
    std::fprintf(out, "  %-20s position %" PRIu64, c.name.c_str(), c.position);
    if (!c.problem.empty()) {
      std::fprintf(out, "  UNUSABLE: %s\n", c.problem.c_str());
    } else if (c.position > committed) {
      // After a power loss: the projector discards it at start and rebuilds (DESIGN.md §6).
      std::fprintf(out, "  beyond the journal's end %" PRIu64 ": will be discarded\n", committed);
    } else {
      std::fprintf(
          out, "  lag %" PRIu64 " events  model v%u  %s\n", committed - c.position, c.model_version,
          c.schema_fingerprint == fingerprint ? "schema matches" : "other schema fingerprint: the view will rebuild");
    }
  }
}

}  // namespace rill::tools::inspect
