// rill/tools/inspect/checkpoints.h: the projector checkpoints that `rill inspect info` shows
// beside a journal, with their lag behind the committed position.
//
// SEAM: the projections issue has not fixed where checkpoints live or how they are encoded,
// so ListCheckpoints finds none yet and info prints "checkpoints: none found". Connect it to
// projections/' checkpoint reader when that lands (tools/README.md, "Open ends").
// Thread safety: a function over files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rill::tools::inspect {

struct Checkpoint {
  std::string projector;       // its name
  std::uint64_t position = 0;  // the last journal position it has applied and saved
  std::string file;
};

// The checkpoints stored for the journal in `dir`, by projector name.
std::vector<Checkpoint> ListCheckpoints(const std::string& dir);

}  // namespace rill::tools::inspect
