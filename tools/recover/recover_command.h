// rill/tools/recover/recover_command.h: `rill recover DIR [--salvage]`: what the writer's
// recovery would do to a journal, and, with --salvage, doing it without starting a service.
//
//   rill recover /var/lib/bank/journal             # dry run: the verdict, what salvage keeps and loses
//   rill recover /var/lib/bank/journal --salvage   # keep the valid prefix, move the rest aside
//
// The verdict is CheckJournal's (journal/journal_verifier.h), the one the writer applies. The
// dry run changes nothing and takes no lock. --salvage takes the writer's lock (exit 3 when a
// writer holds it), recovers with WriterOptions::salvage, moves what it drops to
// "DIR/aside-<time>/" (nothing is deleted) and records the result in the control file, so the
// next writer opens without a complaint. It appends nothing.
// Exit codes: 0 nothing to do, or done; 1 the journal is damaged and this was a dry run, or
// salvage cannot help; 2 usage; 3 the input cannot be read or is locked by a writer.
// Thread safety: RunRecover is reentrant.
#pragma once

#include <cstdio>
#include <string>

namespace rill::tools {

struct RecoverOptions {
  std::string dir{};
  bool salvage = false;
};

int RunRecover(const RecoverOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rill::tools
