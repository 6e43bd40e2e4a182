// The blog domain: validate, decide and evolve (the events and their codec come from blog.fbs).
#include "rill/examples/blog/blog_domain.h"

#include <string_view>

namespace rill::examples::blog {
namespace {

using engine::RejectCode;
using Decision = BlogDomain::Decision;

engine::Rejection Reject(RejectCode code, Reason reason, const char* fmt, std::uint64_t post) noexcept {
  return engine::Rejection::Format(code, static_cast<std::uint32_t>(reason), fmt,
                                   static_cast<unsigned long long>(post));
}

std::optional<engine::Rejection> CheckSize(const char* field, BytesRef text) noexcept {
  if (text.size() <= kMaxFieldBytes) return std::nullopt;
  return engine::Rejection::Format(RejectCode::kInvalidCommand, static_cast<std::uint32_t>(Reason::kFieldTooLarge),
                                   "%s is %zu bytes; the limit is %zu", field, text.size(), kMaxFieldBytes);
}

std::optional<engine::Rejection> CheckAuthor(const BlogDomain::View& v, std::uint64_t by) noexcept {
  if (!v.exists()) return Reject(RejectCode::kNotFound, Reason::kUnknownPost, "post %llu does not exist", v.id);
  if (v.state->author != by)
    return Reject(RejectCode::kRuleViolated, Reason::kNotAuthor, "post %llu: only its author may change it", v.id);
  return std::nullopt;
}

Decision DecideOne(const CreatePost& c, const BlogDomain::View& v) noexcept {
  if (v.exists())
    return Decision::Reject(
        Reject(RejectCode::kAlreadyExists, Reason::kPostExists, "post %llu already exists", c.post));
  if (c.title.empty())
    return Decision::Reject(
        Reject(RejectCode::kInvalidCommand, Reason::kTitleRequired, "post %llu: a title is required", c.post));
  Decision d;
  // An empty body is recorded as none, as FlatBuffers omits it.
  d.Emit(c.post, PostCreated{c.author, c.title, c.body.empty() ? std::nullopt : std::optional<BytesRef>(c.body)});
  return d;
}

Decision DecideOne(const EditPost& c, const BlogDomain::View& v) noexcept {
  if (!c.title && !c.body)
    return Decision::Reject(Reject(RejectCode::kInvalidCommand, Reason::kNothingToEdit,
                                   "post %llu: an edit needs a title or a body", c.post));
  if (c.title && c.title->empty())
    return Decision::Reject(
        Reject(RejectCode::kInvalidCommand, Reason::kTitleRequired, "post %llu: the title cannot be empty", c.post));
  if (auto r = CheckAuthor(v, c.by)) return Decision::Reject(*r);
  Decision d;
  d.Emit(c.post, PostEdited{c.title, c.body});
  return d;
}

Decision DecideOne(const PublishPost& c, const BlogDomain::View& v) noexcept {
  if (auto r = CheckAuthor(v, c.by)) return Decision::Reject(*r);
  if (v.state->published)
    return Decision::Reject(
        Reject(RejectCode::kRuleViolated, Reason::kAlreadyPublished, "post %llu is already published", c.post));
  Decision d;
  d.Emit(c.post, PostPublished{});
  return d;
}

Decision DecideOne(const AddComment& c, const BlogDomain::View& v) noexcept {
  if (c.text.empty())
    return Decision::Reject(
        Reject(RejectCode::kInvalidCommand, Reason::kCommentRequired, "post %llu: a comment needs text", c.post));
  if (!v.exists())
    return Decision::Reject(Reject(RejectCode::kNotFound, Reason::kUnknownPost, "post %llu does not exist", c.post));
  if (!v.state->published)
    return Decision::Reject(Reject(RejectCode::kRuleViolated, Reason::kNotPublished,
                                   "post %llu is a draft: publish it before comments", c.post));
  if (v.state->comments >= kMaxCommentsPerPost)
    return Decision::Reject(
        Reject(RejectCode::kRuleViolated, Reason::kTooManyComments, "post %llu has too many comments", c.post));
  Decision d;
  d.Emit(c.post, CommentAdded{c.author, c.text});
  return d;
}

void EvolveOne(Post& p, const PostCreated& e) noexcept { p = Post{e.author_id, 0, false}; }
void EvolveOne(Post&, const PostEdited&) noexcept {}  // texts live in read models, not here
void EvolveOne(Post& p, const PostPublished&) noexcept { p.published = true; }
void EvolveOne(Post& p, const CommentAdded&) noexcept { ++p.comments; }

}  // namespace

std::optional<engine::Rejection> BlogDomain::Validate(const Command& cmd) noexcept {
  if (const auto* c = std::get_if<CreatePost>(&cmd)) {
    if (auto r = CheckSize("title", c->title)) return r;
    return CheckSize("body", c->body);
  }
  if (const auto* c = std::get_if<EditPost>(&cmd)) {
    if (c->title)
      if (auto r = CheckSize("title", *c->title)) return r;
    if (c->body) return CheckSize("body", *c->body);
    return std::nullopt;
  }
  if (const auto* c = std::get_if<AddComment>(&cmd)) return CheckSize("comment", c->text);
  return std::nullopt;
}

BlogDomain::Decision BlogDomain::Decide(const Command& cmd, std::span<const View> aggs,
                                        const engine::DecideContext&) noexcept {
  return std::visit([&](const auto& c) { return DecideOne(c, aggs[0]); }, cmd);
}

void BlogDomain::Evolve(Post& p, const Event& event) noexcept {
  std::visit([&](const auto& e) { EvolveOne(p, e); }, event);
}

}  // namespace rill::examples::blog
