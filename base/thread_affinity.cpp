#include "rill/base/thread_affinity.h"

#include <pthread.h>
#include <sched.h>

#include <string>

namespace rill {
namespace {

Status Pin(pthread_t thread, int cpu) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return Status::FromErrno("sched_getaffinity", errno);
  if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) {
    return Status::InvalidArgument("CPU " + std::to_string(cpu) + " is not available to this process (it may use " +
                                   std::to_string(CPU_COUNT(&allowed)) + " CPUs)");
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  if (const int err = pthread_setaffinity_np(thread, sizeof one, &one); err != 0)
    return Status::FromErrno("pthread_setaffinity_np", err);
  return Status::OK();
}

}  // namespace

int AvailableCpuCount() noexcept {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 1;
  const int n = CPU_COUNT(&allowed);
  return n > 0 ? n : 1;
}

Status PinCurrentThread(int cpu) { return Pin(pthread_self(), cpu); }

Status PinThread(std::thread& thread, int cpu) { return Pin(thread.native_handle(), cpu); }

}  // namespace rill
