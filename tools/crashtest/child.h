// rill/tools/crashtest/child.h: the crash test's child process: the bank workload on the real
// Engine, until the parent kills it.
//
//   // rill crashtest --child --journal DIR --round 3 --ack-fd 3 --retry-file F ... (set by the parent)
//   return RunChild(options, stderr);   // returns only on an error
//
// Opens the engine on the journal (recovering it), reports kReady, resends the retry file's
// commands (same ids) and waits for their outcomes, then runs `producers` threads that each
// submit windows of commands and report them over the ack fd (wire.h): "sent" before a
// window is submitted, "ack" after its outcomes arrived. It never stops by itself.
// Exit codes when it does return: 3 the engine cannot open the journal (printed on err), 2 bad
// options, 4 the ack pipe failed.
// Thread safety: the whole process.
#pragma once

#include <cstdio>

#include "rill/tools/crashtest/crashtest_command.h"

namespace rill::tools::crashtest {

int RunChild(const CrashtestOptions& options, std::FILE* err);

}  // namespace rill::tools::crashtest
