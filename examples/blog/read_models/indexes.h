// rill/projections/blog/indexes.h: the blog's list views: recent published posts, posts by
// author, comment counts (blog reference domain).
//
//   std::array<RecentPost, 10> page;  std::size_t n = recent->model().Recent(page);
//   std::array<std::uint64_t, 16> ids; std::size_t m = by_author->model().Posts(author, ids);
//   std::uint64_t c = counts->model().Count(post);
//
// RecentPublished: one bounded ring of the last kRecentCapacity published posts, a seqlock
//   per slot plus a published count (a query returns a consistent page as of one count). It keeps a private post ->
//   author array (grown by doubling) to name the author without a join.
// PostsByAuthor: a dense array by author id (ChunkedArray), per author a bounded ring of the
//   ids of their last kAuthorPostsCapacity posts, and their total, under a per-author seqlock.
// CommentCounts: a dense array by post id of single atomic words (count + 1, 0 = no such
//   post); one word cannot tear, so no seqlock is needed: relaxed loads and stores.
// Thread safety: Apply/EndBatch/Save/Load on the projector thread; queries from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/projections/chunked_array.h"
#include "rill/projections/seqlock.h"

namespace rill::projections::blog {

inline constexpr std::size_t kRecentCapacity = 32;
inline constexpr std::size_t kAuthorPostsCapacity = 16;

struct RecentPost {
  std::uint64_t post = 0;
  std::uint64_t author = 0;
  std::int64_t published_ns = 0;
};

class RecentPublished {
 public:
  static constexpr std::string_view kName = "blog.recent_published";
  static constexpr std::uint32_t kVersion = 1;

  // Any thread: up to out.size() of the latest published posts, newest first.
  std::size_t Recent(std::span<RecentPost> out) const noexcept;

  const char* Apply(const codecs::DecodedEvent& e);
  void Save(std::vector<std::byte>& out) const;
  Status Load(std::span<const std::byte> in);

 private:
  // A ring of immutable-until-overwritten slots, one seqlock each, and a published count.
  // Readers read the count, then only the slots they need; the writer touches one slot per
  // publish, so a query conflicts with it only on a slot it is rewriting (the ring lapped
  // the reader), never on the page as a whole.
  struct alignas(64) Slot {
    SeqlockWords<4> cell;  // sequence number (count after this publish), post, author, time
  };
  std::array<Slot, kRecentCapacity> slots_{};
  // Release store after the slot is written; acquire load by readers: a count they see
  // covers slots whose content is visible.
  alignas(64) std::atomic<std::uint64_t> count_{0};
  std::vector<std::uint64_t> author_;  // by post id, + 1 (0: unknown); projector thread only
};

struct PostsByAuthorOptions {
  std::uint64_t max_authors = std::uint64_t{1} << 20;
};

class PostsByAuthor {
 public:
  static constexpr std::string_view kName = "blog.posts_by_author";
  static constexpr std::uint32_t kVersion = 1;

  explicit PostsByAuthor(PostsByAuthorOptions options = {}) : authors_(options.max_authors) {}

  // Any thread: up to out.size() of the author's latest post ids, newest first.
  std::size_t Posts(std::uint64_t author, std::span<std::uint64_t> out) const noexcept;
  std::uint64_t PostCount(std::uint64_t author) const noexcept;

  const char* Apply(const codecs::DecodedEvent& e);
  void Save(std::vector<std::byte>& out) const;
  Status Load(std::span<const std::byte> in);

 private:
  static constexpr std::size_t kWords = 1 + kAuthorPostsCapacity;
  struct alignas(64) Record {
    SeqlockWords<kWords> cell;
  };
  ChunkedArray<Record, 10> authors_;
};

struct CommentCountsOptions {
  std::uint64_t max_posts = std::uint64_t{1} << 20;
};

class CommentCounts {
 public:
  static constexpr std::string_view kName = "blog.comment_counts";
  static constexpr std::uint32_t kVersion = 1;

  explicit CommentCounts(CommentCountsOptions options = {}) : posts_(options.max_posts) {}

  // Any thread: the post's comments; 0 also for an unknown post (see Exists).
  std::uint64_t Count(std::uint64_t post) const noexcept {
    const std::atomic<std::uint64_t>* c = posts_.Find(post);
    const std::uint64_t v = c ? c->load(std::memory_order_relaxed) : 0;  // relaxed: one word, no order needed
    return v ? v - 1 : 0;
  }
  bool Exists(std::uint64_t post) const noexcept {
    const std::atomic<std::uint64_t>* c = posts_.Find(post);
    return c && c->load(std::memory_order_relaxed) != 0;
  }

  const char* Apply(const codecs::DecodedEvent& e);
  void Save(std::vector<std::byte>& out) const;
  Status Load(std::span<const std::byte> in);

 private:
  ChunkedArray<std::atomic<std::uint64_t>, 12> posts_;
};

}  // namespace rill::projections::blog
