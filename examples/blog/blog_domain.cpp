// The blog domain: decide, evolve, fingerprints and the codec mapping.
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
  d.Emit(c.post, PostCreated{c.author, c.title, c.body});
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

void EvolveOne(Post& p, const PostCreated& e) noexcept { p = Post{e.author, 0, false}; }
void EvolveOne(Post&, const PostEdited&) noexcept {}  // texts live in read models, not here
void EvolveOne(Post& p, const PostPublished&) noexcept { p.published = true; }
void EvolveOne(Post& p, const CommentAdded&) noexcept { ++p.comments; }

flatbuffers::Offset<flatbuffers::String> Str(flatbuffers::FlatBufferBuilder& b, BytesRef s) {
  return b.CreateString(s.data() == nullptr ? "" : s.data(), s.size());
}
flatbuffers::Offset<flatbuffers::String> OptStr(flatbuffers::FlatBufferBuilder& b, const std::optional<BytesRef>& s) {
  return s ? Str(b, *s) : flatbuffers::Offset<flatbuffers::String>();
}
BytesRef Ref(const flatbuffers::String* s) noexcept {
  return s == nullptr ? BytesRef() : BytesRef(s->c_str(), s->size());
}
std::optional<BytesRef> OptRef(const flatbuffers::String* s) noexcept {
  return s == nullptr ? std::nullopt : std::optional<BytesRef>(BytesRef(s->c_str(), s->size()));
}

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

std::uint64_t BlogDomain::Fingerprint(const Command& cmd) noexcept {
  engine::Fingerprinter f;
  f.Add(cmd.index());
  std::visit(
      [&](const auto& c) {
        using C = std::decay_t<decltype(c)>;
        f.Add(c.post);
        if constexpr (std::is_same_v<C, CreatePost>) {
          f.Add(c.author);
          f.Add(c.title);
          f.Add(c.body);
        } else if constexpr (std::is_same_v<C, EditPost>) {
          f.Add(c.by);
          f.Add(c.title.has_value());  // "no title" differs from "empty title"
          if (c.title) f.Add(*c.title);
          f.Add(c.body.has_value());
          if (c.body) f.Add(*c.body);
        } else if constexpr (std::is_same_v<C, PublishPost>) {
          f.Add(c.by);
        } else {
          static_assert(std::is_same_v<C, AddComment>, "a new command needs its fields here");
          f.Add(c.author);
          f.Add(c.text);
        }
      },
      cmd);
  return f.Finish();
}

std::span<const std::uint8_t> BlogDomain::Encode(codecs::Encoder& enc, const codecs::EnvelopeFields& env,
                                                 const Event& event) {
  return std::visit(
      [&](const auto& e) -> std::span<const std::uint8_t> {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, PostCreated>) {
          return enc.Encode<fb::PostCreated>(env, [&](flatbuffers::FlatBufferBuilder& b) {
            const auto title = Str(b, e.title);
            const auto body = e.body.empty() ? flatbuffers::Offset<flatbuffers::String>() : Str(b, e.body);
            return fb::CreatePostCreated(b, e.author, title, body);
          });
        } else if constexpr (std::is_same_v<E, PostEdited>) {
          return enc.Encode<fb::PostEdited>(env, [&](flatbuffers::FlatBufferBuilder& b) {
            const auto title = OptStr(b, e.title);
            const auto body = OptStr(b, e.body);
            return fb::CreatePostEdited(b, title, body);
          });
        } else if constexpr (std::is_same_v<E, PostPublished>) {
          return enc.Encode<fb::PostPublished>(
              env, [&](flatbuffers::FlatBufferBuilder& b) { return fb::CreatePostPublished(b); });
        } else {
          return enc.Encode<fb::CommentAdded>(env, [&](flatbuffers::FlatBufferBuilder& b) {
            const auto text = Str(b, e.text);
            return fb::CreateCommentAdded(b, e.author, text);
          });
        }
      },
      event);
}

std::optional<Event> BlogDomain::FromDecoded(const codecs::DecodedEvent& d) noexcept {
  if (const auto* e = d.As<fb::PostCreated>()) return PostCreated{e->author_id(), Ref(e->title()), Ref(e->body())};
  if (const auto* e = d.As<fb::PostEdited>()) return PostEdited{OptRef(e->title()), OptRef(e->body())};
  if (d.As<fb::PostPublished>() != nullptr) return PostPublished{};
  if (const auto* e = d.As<fb::CommentAdded>()) return CommentAdded{e->author_id(), Ref(e->text())};
  return std::nullopt;
}

}  // namespace rill::examples::blog
