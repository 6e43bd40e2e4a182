// rill/base/thread_affinity.h: pin a thread to one CPU, or say why it could not be.
//
//   if (rill::Status s = rill::PinCurrentThread(1); !s.ok())
//     std::fprintf(stderr, "warning: %s; running unpinned\n", s.ToString().c_str());
//
// A CPU that does not exist (or is outside this process's allowed set) is not fatal for
// rill: callers warn and run unpinned. Thread safety: may be called from any thread.
#pragma once

#include <thread>

#include "rill/base/status.h"

namespace rill {

// Number of CPUs this process may run on (sched_getaffinity), at least 1.
int AvailableCpuCount() noexcept;

// Pins the calling thread to `cpu`. InvalidArgument when that CPU is not available to this
// process; the thread is then left as it was.
Status PinCurrentThread(int cpu);

// Pins another thread, as above.
Status PinThread(std::thread& thread, int cpu);

}  // namespace rill
