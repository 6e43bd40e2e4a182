// The heavy half of the asymmetric barrier pair declared in wait_strategy.h.
#include "rill/engine/wait_strategy.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace rill::engine::detail {

std::atomic<bool> g_light_barrier_is_compiler_only{false};

namespace {

long Membarrier(int cmd) noexcept { return syscall(SYS_membarrier, cmd, 0, 0); }

bool Register() noexcept {
  const long supported = Membarrier(MEMBARRIER_CMD_QUERY);
  if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  if (Membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0) return false;
  // Release: nothing depends on it (LightBarrier reads it relaxed); it only says "from now on
  // every HeavyBarrier is a membarrier", which Registered() below already guarantees.
  g_light_barrier_is_compiler_only.store(true, std::memory_order_release);
  return true;
}

// Once per process; the function-local static makes a concurrent first call wait for it.
bool Registered() noexcept {
  static const bool registered = Register();
  return registered;
}

// Register before main, so threads find the cheap LightBarrier from their first publish.
[[maybe_unused]] const bool kRegisteredAtStart = Registered();

}  // namespace

void HeavyBarrier() noexcept {
  if (!Registered()) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return;
  }
  if (Membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
    // Cannot happen after a successful registration; continuing would lose wake-ups.
    std::fprintf(stderr, "rill: membarrier(PRIVATE_EXPEDITED) failed after registration; aborting\n");
    std::abort();
  }
}

}  // namespace rill::engine::detail
