// rill/examples/blog/blog_domain.h: the blog, rill's second reference domain: posts with
// variable-size text, written by their author, published once, commented on once published.
//
//   using namespace rill::examples::blog;
//   std::string title = "Hello", body = "...";          // must outlive the command (BytesRef)
//   writer.Process({.command_id = 1}, CreatePost{.post = 1, .author = 9, .title = title, .body = body}, now, sink);
//   writer.Process({.command_id = 2}, PublishPost{.post = 1, .by = 9}, now, sink);
//   writer.Process({.command_id = 3}, AddComment{.post = 1, .author = 5, .text = "Nice"}, now, sink);
//
// Text fields are rill::engine::BytesRef into the caller's memory (engine/README.md):
// the bytes must stay alive until the command's outcome is delivered. Each is at most
// kMaxFieldBytes (64 KiB); a larger one is rejected before anything else with kInvalidCommand
// ("title is 70000 bytes; the limit is 65536"). The state keeps no text: only what decisions
// need (exists, author, published, comment count); read models keep the texts.
//
// Rules (each has a test in tests/writer/blog_domain_test.cpp):
// - CreatePost: the id is unused (kAlreadyExists); the title is not empty (kInvalidCommand,
//   kTitleRequired); the body may be empty.
// - EditPost: the post exists (kNotFound); only its author edits (kRuleViolated, kNotAuthor);
//   at least one of title / body is given (kInvalidCommand, kNothingToEdit); a given title is
//   not empty. Published posts may be edited.
// - PublishPost: exists; only the author; at most once (kRuleViolated, kAlreadyPublished).
// - AddComment: exists; the post is published (kRuleViolated, kNotPublished: drafts are
//   private); the text is not empty (kInvalidCommand, kCommentRequired); at most
//   kMaxCommentsPerPost comments (kRuleViolated, kTooManyComments).
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <variant>

#include "blog_events.h"  // generated from blog.fbs: the events, their codec and registration
#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/bytes_ref.h"
#include "rill/engine/command_outcome.h"
#include "rill/engine/decision.h"
#include "rill/engine/domain.h"
#include "rill/engine/fingerprint.h"

namespace rill::examples::blog {

namespace fb = ::rill::blog;  // the FlatBuffers tables (blog.fbs)
using engine::BytesRef;

inline constexpr std::size_t kMaxFieldBytes = 64 * 1024;
inline constexpr std::uint32_t kMaxCommentsPerPost = 100'000;

// ---- Commands ----
struct CreatePost {
  std::uint64_t post = 0;
  std::uint64_t author = 0;
  BytesRef title;
  BytesRef body;
};
struct EditPost {
  std::uint64_t post = 0;
  std::uint64_t by = 0;           // who edits: must be the author
  std::optional<BytesRef> title;  // absent: unchanged
  std::optional<BytesRef> body;
};
struct PublishPost {
  std::uint64_t post = 0;
  std::uint64_t by = 0;
};
struct AddComment {
  std::uint64_t post = 0;
  std::uint64_t author = 0;
  BytesRef text;
};
using Command = std::variant<CreatePost, EditPost, PublishPost, AddComment>;

// ---- State: one post, 16 bytes ----
struct Post {
  std::uint64_t author = 0;
  std::uint32_t comments = 0;
  bool published = false;
};

enum class Reason : std::uint32_t {
  kNone = 0,
  kFieldTooLarge,
  kTitleRequired,
  kNothingToEdit,
  kCommentRequired,
  kNotAuthor,
  kAlreadyPublished,
  kNotPublished,
  kTooManyComments,
  kUnknownPost,
  kPostExists,
};

struct BlogDomain : BlogEvents {  // Event, RegisterEvents, Encode, FromDecoded: from blog.fbs
  using Command = blog::Command;
  using State = Post;
  static constexpr std::size_t kMaxStreams = 1;
  static constexpr std::size_t kMaxEvents = 1;
  using Decision = engine::Decision<Event, kMaxEvents>;
  using View = engine::AggregateView<Post>;

  static engine::StreamList<kMaxStreams> Streams(const Command& cmd) noexcept {
    return {std::visit([](const auto& c) { return c.post; }, cmd)};
  }
  // Field sizes, before anything else (stateless).
  static std::optional<engine::Rejection> Validate(const Command& cmd) noexcept;
  static Decision Decide(const Command& cmd, std::span<const View> aggs, const engine::DecideContext& ctx) noexcept;
  static void Evolve(Post& p, const Event& event) noexcept;
};

static_assert(engine::CheckDomain<BlogDomain>());

}  // namespace rill::examples::blog
