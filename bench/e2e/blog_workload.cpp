#include "rill/bench/e2e/blog_workload.h"

#include <array>

namespace rill::bench {
namespace {

// A comment-sized, a paragraph-sized and a page-sized text.
constexpr std::string_view kShort = "Thanks, this helped.";
constexpr std::string_view kMedium =
    "Event sourcing keeps every change as an event; the current state is a fold over them. "
    "Read models are projections that can be rebuilt at any time from the journal.";
constexpr std::string_view kLong =
    "A single writer thread owns the aggregates, so a command that touches several of them is "
    "atomic without locks. Commands arrive on a ring, are decided in batches, and the batch's "
    "events are appended to a memory-mapped journal and committed together; projector threads "
    "follow the committed position and update read models that queries read without blocking "
    "the projector. Group commit makes durability cheap: one sync covers every command of a "
    "batch, so the cost of fsync is shared by thousands of commands instead of paid by each.";

}  // namespace

std::string_view BlogText(std::uint64_t pick) noexcept {
  static constexpr std::array<std::string_view, 4> kTexts = {kShort, kMedium, kShort, kLong};
  return kTexts[pick % kTexts.size()];
}

std::vector<BlogCommand> BlogSetupCommands(const BlogWorkloadOptions& o) {
  namespace blog = examples::blog;
  std::vector<BlogCommand> out;
  out.reserve(2 * o.posts);
  std::uint64_t id = 1;
  for (std::uint64_t p = 1; p <= o.posts; ++p) {
    BlogCommand c;
    c.meta.command_id = id++;
    c.command = blog::CreatePost{p, 1 + p % o.authors, "Hello, rill", BlogText(p)};
    out.push_back(c);
  }
  for (std::uint64_t p = 1; p <= o.posts; ++p) {
    BlogCommand c;
    c.meta.command_id = id++;
    c.command = blog::PublishPost{p, 1 + p % o.authors};
    out.push_back(c);
  }
  return out;
}

BlogCommandStream::BlogCommandStream(const BlogWorkloadOptions& o, int producer)
    : rng_(o.seed * 0x2545f4914f6cdd1dull + static_cast<std::uint64_t>(producer) + 1),
      next_id_(2 * o.posts + 1 + static_cast<std::uint64_t>(producer)),
      next_draft_(o.posts + 1 + static_cast<std::uint64_t>(producer)),
      id_stride_(static_cast<std::uint64_t>(o.producers)),
      posts_(o.posts),
      authors_(o.authors),
      comment_percent_(o.comment_percent),
      comment_edit_percent_(o.comment_percent + o.edit_percent) {}

}  // namespace rill::bench
