// rill/base/cache_line.h: the one place that says how rill lays data out around cache lines.
#pragma once

#include <cstddef>

namespace rill {

// The size of one cache line on the x86-64 and ARMv8 cores rill targets. Dense read-model
// records and ring slots are laid out in units of this.
inline constexpr std::size_t kCacheLineSize = 64;

// How far apart two independently written hot variables (a producer's and a consumer's
// sequence, two counters) must be so that they never share what the hardware moves as a
// unit. Intel's adjacent-line ("spatial") prefetcher fetches 64-byte lines in 128-byte
// pairs, so 128 rather than 64: the gap in the Disruptor's and Folly's padding as well.
inline constexpr std::size_t kFalseSharingRange = 128;

static_assert((kFalseSharingRange & (kFalseSharingRange - 1)) == 0, "alignment must be a power of two");
static_assert(kFalseSharingRange % kCacheLineSize == 0);

}  // namespace rill
