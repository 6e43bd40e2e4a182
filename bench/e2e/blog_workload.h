// rill/bench/e2e/blog_workload.h: the blog workload of `rill bench --workload blog`: a seeded
// stream of blog commands with variable-size text, the case a fixed-size command slot cannot
// hold inline (the engine keeps a BytesRef; the text must outlive the outcome).
//
//   rill::bench::BlogWorkloadOptions w{.posts = 10'000, .producers = 2, .seed = 7};
//   for (const BlogCommand& c : BlogSetupCommands(w)) submit(c);  // create + publish, once
//   BlogCommandStream s(w, /*producer=*/0);
//   BlogCommand c = s.Next();          // texts point at static storage: always alive
//
// Setup: CreatePost for posts 1..N (author = 1 + post % authors) and PublishPost for each.
// Then each producer draws comments on uniformly chosen posts (most commands), edits of a
// post's body by its author, and new drafts in an id range of its own (ids above N, unique
// across producers). Every draw is accepted unless a post reaches kMaxCommentsPerPost.
// Command ids: setup 1..2N, then 2N + 1 + k * producers + p, as in the bank workload.
// Thread safety: a stream belongs to one thread; distinct streams are independent.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "rill/base/splitmix64.h"
#include "rill/engine/domain.h"
#include "rill/examples/blog/blog_domain.h"

namespace rill::bench {

struct BlogWorkloadOptions {
  std::uint64_t posts = 10'000;  // >= 1
  int producers = 1;
  std::uint64_t seed = 1;
  std::uint64_t authors = 100;
  int comment_percent = 85;
  int edit_percent = 10;  // new drafts: 100 - comment - edit
};

struct BlogCommand {
  engine::CommandMeta meta;
  examples::blog::Command command;
};

std::vector<BlogCommand> BlogSetupCommands(const BlogWorkloadOptions& options);

// Texts of a few sizes, in static storage (valid for the life of the process).
std::string_view BlogText(std::uint64_t pick) noexcept;

class BlogCommandStream {
 public:
  // REQUIRES: 0 <= producer < options.producers, options.posts >= 1.
  BlogCommandStream(const BlogWorkloadOptions& options, int producer);

  BlogCommand Next() noexcept {
    namespace blog = examples::blog;
    BlogCommand c;
    c.meta.command_id = next_id_;
    next_id_ += id_stride_;
    const std::uint64_t r = Random();
    const auto pick = static_cast<int>(r % 100);
    const std::uint64_t post = 1 + (r >> 8) % posts_;
    if (pick < comment_percent_) {
      c.command = blog::AddComment{post, 1 + (r >> 40) % 1'000'000, BlogText(r >> 20)};
    } else if (pick < comment_edit_percent_) {
      c.command = blog::EditPost{post, AuthorOf(post), std::nullopt, BlogText((r >> 20) + 1)};
    } else {
      const std::uint64_t id = next_draft_;
      next_draft_ += id_stride_;
      c.command = blog::CreatePost{id, AuthorOf(id), "A draft", BlogText(r >> 24)};
    }
    return c;
  }

  std::uint64_t AuthorOf(std::uint64_t post) const noexcept { return 1 + post % authors_; }

 private:
  std::uint64_t Random() noexcept { return rng_.Next(); }

  SplitMix64 rng_;
  std::uint64_t next_id_;
  std::uint64_t next_draft_;
  std::uint64_t id_stride_;
  std::uint64_t posts_;
  std::uint64_t authors_;
  int comment_percent_;
  int comment_edit_percent_;
};

}  // namespace rill::bench
