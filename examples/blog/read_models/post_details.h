// rill/projections/blog/post_details.h: a blog post as its page shows it (blog reference domain).
//
//   rill::projections::blog::PostDetail d;
//   if (posts->model().Get(post_id, &d)) render(d.title_view(), d.body_view(), d.comments);
//
// Layout: a dense array by post id (ChunkedArray, 256 posts per chunk, allocated on first
// use); one 1,200-byte record per post under one seqlock: state, author, times, comment count,
// and the title and body in fixed-capacity slots inside the record, so an event never
// allocates and a query copies one contiguous record (19 cache lines, no pointer to chase).
// Limits (documented in README.md): title up to kTitleCapacity bytes, body up to
// kBodyCapacity bytes; longer text is cut at the capacity (on a UTF-8 character boundary) and
// flagged truncated: the full text stays in the journal. Post ids < max_posts (2^20).
// Thread safety: Apply/Save/Load on the projector thread; Get from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/projections/chunked_array.h"
#include "rill/projections/seqlock.h"

namespace rill::projections::blog {

inline constexpr std::size_t kTitleCapacity = 120;
inline constexpr std::size_t kBodyCapacity = 1024;

enum class PostState : std::uint8_t { kNone = 0, kDraft = 1, kPublished = 2 };

struct PostDetail {
  PostState state = PostState::kNone;
  bool title_truncated = false, body_truncated = false;
  std::uint64_t author = 0;
  std::int64_t created_ns = 0, published_ns = 0;  // published_ns: 0 while a draft
  std::uint64_t comments = 0;
  std::uint64_t version = 0;  // the post stream's version
  std::size_t title_size = 0, body_size = 0;
  char title[kTitleCapacity];
  char body[kBodyCapacity];
  std::string_view title_view() const noexcept { return {title, title_size}; }
  std::string_view body_view() const noexcept { return {body, body_size}; }
};

struct PostDetailsOptions {
  std::uint64_t max_posts = std::uint64_t{1} << 20;
};

class PostDetails {
 public:
  static constexpr std::string_view kName = "blog.post_details";
  static constexpr std::uint32_t kVersion = 1;

  explicit PostDetails(PostDetailsOptions options = {}) : posts_(options.max_posts) {}

  // Any thread: false for a post never created.
  bool Get(std::uint64_t post, PostDetail* out) const noexcept;

  const char* Apply(const codecs::DecodedEvent& e);
  void Save(std::vector<std::byte>& out) const;
  Status Load(std::span<const std::byte> in);

 private:
  // Words: 0 meta (state | title_size << 8 | body_size << 24 | flags << 40), 1 author,
  // 2 created, 3 published, 4 comments, 5 version, then title and body bytes.
  static constexpr std::size_t kMetaWords = 6;
  static constexpr std::size_t kTitleWords = kTitleCapacity / 8, kBodyWords = kBodyCapacity / 8;
  static constexpr std::size_t kWords = kMetaWords + kTitleWords + kBodyWords;
  struct alignas(64) Record {
    SeqlockWords<kWords> cell;
  };
  static void WriteText(Record& r, std::size_t first_word, std::size_t capacity, std::string_view text,
                        std::size_t* size, bool* truncated);

  ChunkedArray<Record, 8> posts_;
};

}  // namespace rill::projections::blog
