// rill/codecs/domaingen/compat.h: may this schema read the journals its lock describes? The
// rules (README.md, "The lock file"): what old records hold never changes meaning; new
// events, versions and optional fields are added.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "rill/codecs/domaingen/lock_file.h"

namespace rill::codecs::domaingen {

// Checks `current` (the schema's entries) against `locked` (the lock file). Appends one
// message per incompatibility to errors, each naming `label` (the schema), the event and the
// field, and saying what to do instead; appends what the new lock adds or changes to notes.
// Returns true when compatible: then `current` is the new lock.
bool CheckCompatible(const std::vector<LockEntry>& locked, const std::vector<LockEntry>& current,
                     const std::string& label, std::vector<std::string>* errors, std::vector<std::string>* notes);

}  // namespace rill::codecs::domaingen
