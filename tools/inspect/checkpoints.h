// rill/tools/inspect/checkpoints.h: the projector checkpoints that `rill inspect info` shows
// beside a journal, with their lag behind the committed position.
//
// Checkpoints live where the application's ProjectorThreadOptions::checkpoint_directory puts
// them; by convention <journal>/checkpoints, or pass --checkpoints DIR. Files are read with
// projections/checkpoint.h's own checks (magic, format, CRCs), never written.
// Thread safety: functions over files.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace rill::tools::inspect {

// <journal_dir>/checkpoints unless `checkpoints_dir` names another directory.
std::string CheckpointDirectory(const std::string& journal_dir, const std::string& checkpoints_dir);

// Prints the checkpoints found in `dir`: view, position, lag behind `committed`, whether they
// were written for this journal's schema (`fingerprint`), or why a file is unusable.
// "checkpoints: none found in DIR" when there are none.
void PrintCheckpoints(const std::string& dir, std::uint64_t committed, std::uint64_t fingerprint, std::FILE* out);

}  // namespace rill::tools::inspect
