// rill/examples/blog/blog_workload.h: the blog's workload for rill's tools (tools/workload.h): a
// seeded stream of blog commands with variable-size text, the case a fixed-size command slot
// cannot hold inline (the engine keeps a BytesRef; the texts are static, so always alive).
//
//   BlogWorkload w({.aggregates = 10'000, .producers = 2, .seed = 7});   // aggregates: posts
//   for (const Command& c : w.Setup()) submit(c);   // create + publish each post, once
//   Command c = w.MakeProducer(0).Next();
//
// Setup: CreatePost for posts 1..N (author = 1 + post % authors) and PublishPost for each. Then
// each producer draws comments on uniformly chosen posts (most commands), edits of a post's body
// by its author, and new drafts in an id range of its own (ids above N, unique across
// producers). Every draw is accepted unless a post reaches kMaxCommentsPerPost.
// Hooks: comments are conserved (each accepted AddComment is one more in some post), the three
// read models on bench projectors, a summary of published posts and comments.
// Thread safety: the workload is read-only; a Producer belongs to one thread.
#pragma once

#include <array>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rill/base/splitmix64.h"
#include "rill/examples/blog/blog_domain.h"
#include "rill/examples/blog/read_models/indexes.h"
#include "rill/examples/blog/read_models/post_details.h"
#include "rill/projections/projector_thread.h"
#include "rill/tools/workload.h"

namespace rill::examples::blog {

class BlogWorkload {
 public:
  using Domain = BlogDomain;
  static constexpr std::string_view kTallyName = "comments";
  static constexpr std::uint64_t kAuthors = 100;
  static constexpr int kCommentPercent = 85;
  static constexpr int kEditPercent = 10;  // new drafts: the rest

  // A comment-sized, a paragraph-sized and a page-sized text, in static storage.
  static std::string_view Text(std::uint64_t pick) noexcept {
    static constexpr std::string_view kShort = "Thanks, this helped.";
    static constexpr std::string_view kMedium =
        "Event sourcing keeps every change as an event; the current state is a fold over them. "
        "Read models are projections that can be rebuilt at any time from the journal.";
    static constexpr std::string_view kLong =
        "A single writer thread owns the aggregates, so a command that touches several of them is "
        "atomic without locks. Commands arrive on a ring, are decided in batches, and the batch's "
        "events are appended to a memory-mapped journal and committed together; projector threads "
        "follow the committed position and update read models that queries read without blocking "
        "the projector. Group commit makes durability cheap: one sync covers every command of a "
        "batch, so the cost of fsync is shared by thousands of commands instead of paid by each.";
    static constexpr std::array<std::string_view, 4> kTexts = {kShort, kMedium, kShort, kLong};
    return kTexts[pick % kTexts.size()];
  }
  static std::uint64_t AuthorOf(std::uint64_t post) noexcept { return 1 + post % kAuthors; }

  class Producer {
   public:
    Command Next() noexcept {
      const std::uint64_t r = rng_.Next();
      const auto pick = static_cast<int>(r % 100);
      const std::uint64_t post = 1 + (r >> 8) % posts_;
      if (pick < kCommentPercent) return AddComment{post, 1 + (r >> 40) % 1'000'000, Text(r >> 20)};
      if (pick < kCommentPercent + kEditPercent)
        return EditPost{post, AuthorOf(post), std::nullopt, Text((r >> 20) + 1)};
      const std::uint64_t id = next_draft_;
      next_draft_ += stride_;
      return CreatePost{id, AuthorOf(id), BytesRef("A draft"), Text(r >> 24)};
    }

   private:
    friend class BlogWorkload;
    Producer(std::uint64_t seed, int producer, int producers, std::uint64_t posts) noexcept
        : rng_(seed * 0x2545f4914f6cdd1dull + static_cast<std::uint64_t>(producer) + 1),
          posts_(posts),
          next_draft_(posts + 1 + static_cast<std::uint64_t>(producer)),
          stride_(static_cast<std::uint64_t>(producers)) {}
    SplitMix64 rng_;
    std::uint64_t posts_;
    std::uint64_t next_draft_;
    std::uint64_t stride_;
  };

  explicit BlogWorkload(const tools::WorkloadOptions& options)
      : posts_(options.aggregates < 1 ? 1 : options.aggregates),
        producers_(options.producers < 1 ? 1 : options.producers),
        seed_(options.seed) {}

  std::vector<Command> Setup() const {
    std::vector<Command> out;
    out.reserve(2 * posts_);
    for (std::uint64_t p = 1; p <= posts_; ++p)
      out.push_back(CreatePost{p, AuthorOf(p), BytesRef("Hello, rill"), Text(p)});
    for (std::uint64_t p = 1; p <= posts_; ++p) out.push_back(PublishPost{p, AuthorOf(p)});
    return out;
  }
  Producer MakeProducer(int producer) const noexcept { return Producer(seed_, producer, producers_, posts_); }

  std::int64_t Tally(const Command& command) const noexcept {
    return std::holds_alternative<AddComment>(command) ? 1 : 0;
  }
  std::int64_t Total(const tools::StateView<Domain>& state) const {
    std::int64_t sum = 0;
    state.ForEach([&](std::uint64_t, std::uint64_t, const Post& p) { sum += p.comments; });
    return sum;
  }
  void AddReadModels(projections::ProjectorThread& thread, int projector, projections::ProjectorOptions po) const {
    // Room for the drafts a long run creates (ids grow with the command count).
    constexpr std::uint64_t kMaxPosts = std::uint64_t{1} << 26;
    switch (projector % 3) {
      case 0:
        thread.Add<projections::blog::PostDetails>(std::move(po),
                                                   projections::blog::PostDetailsOptions{.max_posts = kMaxPosts});
        break;
      case 1:
        thread.Add<projections::blog::CommentCounts>(std::move(po),
                                                     projections::blog::CommentCountsOptions{.max_posts = kMaxPosts});
        break;
      default:
        thread.Add<projections::blog::RecentPublished>(std::move(po));
        break;
    }
  }
  std::string Describe(const Post& p) const {
    char s[96];
    std::snprintf(s, sizeof s, "author %" PRIu64 ", %u comments, %s", p.author, p.comments,
                  p.published ? "published" : "draft");
    return s;
  }
  std::vector<std::pair<std::string, std::int64_t>> Summary(const tools::StateView<Domain>& state) const {
    std::int64_t published = 0, comments = 0;
    state.ForEach([&](std::uint64_t, std::uint64_t, const Post& p) {
      published += p.published ? 1 : 0;
      comments += p.comments;
    });
    return {{"published", published}, {"comments", comments}};
  }

 private:
  std::uint64_t posts_;
  int producers_;
  std::uint64_t seed_;
};

static_assert(tools::Workload<BlogWorkload>);

}  // namespace rill::examples::blog
