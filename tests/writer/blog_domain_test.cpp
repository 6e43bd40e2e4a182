// The blog's rules, each accepted and rejected case, and the size limit of text fields.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "rill/codecs/decoder.h"
#include "rill/engine/command_processor.h"
#include "rill/examples/blog/blog_domain.h"
#include "writer_test_util.h"

namespace {

using namespace rill::examples::blog;
using rill::engine::BytesRef;
using rill::engine::CommandMeta;
using rill::engine::CommandOutcome;
using rill::engine::CommandProcessor;
using rill::engine::RejectCode;

constexpr std::uint64_t kAuthor = 9;

struct Blog {
  CommandProcessor<BlogDomain> p;
  rill::testing::VectorSink sink;
  std::uint64_t next_id = 1;

  CommandOutcome Run(const Command& cmd) { return p.Process(CommandMeta{next_id++}, cmd, 1'000, sink); }
  const Post& Get(std::uint64_t id) {
    const auto i = p.store().Find(id);
    REQUIRE(i != decltype(p)::Store::kNone);
    return p.store().state(i);
  }
  void Create(std::uint64_t post, bool publish = false) {
    REQUIRE(Run(CreatePost{post, kAuthor, "Title", "Body"}).accepted());
    if (publish) REQUIRE(Run(PublishPost{post, kAuthor}).accepted());
  }
};

void RequireRejected(const CommandOutcome& o, RejectCode code, Reason reason) {
  INFO(o.rejection().message());
  REQUIRE_FALSE(o.accepted());
  REQUIRE(o.code() == code);
  REQUIRE(o.rejection().domain_code == static_cast<std::uint32_t>(reason));
}

}  // namespace

TEST_CASE("blog: create post records the texts in the event, not in the state", "[writer][blog]") {
  Blog b;
  const std::string title = "Why single writers are fast";
  const std::string body(400, 'b');
  const CommandOutcome o = b.Run(CreatePost{1, kAuthor, title, body});
  REQUIRE(o.accepted());
  CHECK(o.stream_version() == 1);
  CHECK(b.Get(1).author == kAuthor);
  CHECK_FALSE(b.Get(1).published);
  rill::codecs::Decoder dec(rill::testing::Registry());
  const auto r = dec.Decode(b.sink.records.at(0).bytes(), 1);
  REQUIRE(r.ok());
  const auto* created = r.event().As<rill::blog::PostCreated>();
  REQUIRE(created != nullptr);
  CHECK(created->title()->str() == title);
  CHECK(created->body()->str() == body);
  CHECK(created->author_id() == kAuthor);
}

TEST_CASE("blog: a post needs a title and an unused id", "[writer][blog]") {
  Blog b;
  RequireRejected(b.Run(CreatePost{1, kAuthor, "", "body"}), RejectCode::kInvalidCommand, Reason::kTitleRequired);
  b.Create(1);
  RequireRejected(b.Run(CreatePost{1, kAuthor, "Again", ""}), RejectCode::kAlreadyExists, Reason::kPostExists);
  SECTION("an empty body is fine") { REQUIRE(b.Run(CreatePost{2, kAuthor, "Only a title", ""}).accepted()); }
}

TEST_CASE("blog: a text field over 64 KiB is an invalid command that says the limit", "[writer][blog]") {
  Blog b;
  const std::string big(70'000, 'x');
  const CommandOutcome o = b.Run(CreatePost{1, kAuthor, big, ""});
  RequireRejected(o, RejectCode::kInvalidCommand, Reason::kFieldTooLarge);
  CHECK(o.rejection().message() == "title is 70000 bytes; the limit is 65536");
  b.Create(2, true);
  RequireRejected(b.Run(AddComment{2, 5, big}), RejectCode::kInvalidCommand, Reason::kFieldTooLarge);
  RequireRejected(b.Run(EditPost{2, kAuthor, std::nullopt, BytesRef(big)}), RejectCode::kInvalidCommand,
                  Reason::kFieldTooLarge);
  const std::string limit(kMaxFieldBytes, 'y');
  REQUIRE(b.Run(CreatePost{3, kAuthor, "t", limit}).accepted());
}

TEST_CASE("blog: edit by the author changes the title or body", "[writer][blog]") {
  Blog b;
  b.Create(1);
  REQUIRE(b.Run(EditPost{1, kAuthor, BytesRef("New title"), std::nullopt}).accepted());
  const CommandOutcome o = b.Run(EditPost{1, kAuthor, std::nullopt, BytesRef("New body")});
  REQUIRE(o.accepted());
  CHECK(o.stream_version() == 3);
  rill::codecs::Decoder dec(rill::testing::Registry());
  const auto r = dec.Decode(b.sink.records.at(2).bytes(), 3);
  REQUIRE(r.ok());
  const auto* edited = r.event().As<rill::blog::PostEdited>();
  REQUIRE(edited != nullptr);
  CHECK(edited->title() == nullptr);  // absent: unchanged
  CHECK(edited->body()->str() == "New body");
}

TEST_CASE("blog: edit rules", "[writer][blog]") {
  Blog b;
  b.Create(1);
  RequireRejected(b.Run(EditPost{2, kAuthor, BytesRef("t"), std::nullopt}), RejectCode::kNotFound,
                  Reason::kUnknownPost);
  RequireRejected(b.Run(EditPost{1, kAuthor + 1, BytesRef("t"), std::nullopt}), RejectCode::kRuleViolated,
                  Reason::kNotAuthor);
  RequireRejected(b.Run(EditPost{1, kAuthor, std::nullopt, std::nullopt}), RejectCode::kInvalidCommand,
                  Reason::kNothingToEdit);
  RequireRejected(b.Run(EditPost{1, kAuthor, BytesRef(""), std::nullopt}), RejectCode::kInvalidCommand,
                  Reason::kTitleRequired);
  SECTION("a published post may still be edited") {
    REQUIRE(b.Run(PublishPost{1, kAuthor}).accepted());
    REQUIRE(b.Run(EditPost{1, kAuthor, std::nullopt, BytesRef("")}).accepted());
  }
}

TEST_CASE("blog: publish once, by the author", "[writer][blog]") {
  Blog b;
  b.Create(1);
  RequireRejected(b.Run(PublishPost{2, kAuthor}), RejectCode::kNotFound, Reason::kUnknownPost);
  RequireRejected(b.Run(PublishPost{1, 77}), RejectCode::kRuleViolated, Reason::kNotAuthor);
  REQUIRE(b.Run(PublishPost{1, kAuthor}).accepted());
  CHECK(b.Get(1).published);
  RequireRejected(b.Run(PublishPost{1, kAuthor}), RejectCode::kRuleViolated, Reason::kAlreadyPublished);
}

TEST_CASE("blog: comments only on published posts, with text", "[writer][blog]") {
  Blog b;
  b.Create(1);
  RequireRejected(b.Run(AddComment{1, 5, "First!"}), RejectCode::kRuleViolated, Reason::kNotPublished);
  RequireRejected(b.Run(AddComment{2, 5, "Where?"}), RejectCode::kNotFound, Reason::kUnknownPost);
  REQUIRE(b.Run(PublishPost{1, kAuthor}).accepted());
  RequireRejected(b.Run(AddComment{1, 5, ""}), RejectCode::kInvalidCommand, Reason::kCommentRequired);
  REQUIRE(b.Run(AddComment{1, 5, "First!"}).accepted());
  REQUIRE(b.Run(AddComment{1, 6, "Second"}).accepted());
  CHECK(b.Get(1).comments == 2);
}

TEST_CASE("blog: a post takes at most kMaxCommentsPerPost comments", "[writer][blog]") {
  // Decide-level: building 100,000 comments through the processor is not needed to test this.
  const Post full{kAuthor, kMaxCommentsPerPost, true};
  const BlogDomain::View view{1, 5, &full};
  const auto d = BlogDomain::Decide(AddComment{1, 5, "one more"}, {&view, 1}, {});
  REQUIRE_FALSE(d.accepted());
  CHECK(d.rejection().domain_code == static_cast<std::uint32_t>(Reason::kTooManyComments));
}

TEST_CASE("blog: the fingerprint covers the texts, not where they are stored", "[writer][blog]") {
  const std::string a1 = "same", a2 = "same", b = "other";
  CHECK(rill::engine::CommandProcessor<BlogDomain>::FingerprintOf({}, AddComment{1, 5, a1}) ==
        rill::engine::CommandProcessor<BlogDomain>::FingerprintOf({}, AddComment{1, 5, a2}));
  CHECK(rill::engine::CommandProcessor<BlogDomain>::FingerprintOf({}, AddComment{1, 5, a1}) !=
        rill::engine::CommandProcessor<BlogDomain>::FingerprintOf({}, AddComment{1, 5, b}));
  CHECK(rill::engine::CommandProcessor<BlogDomain>::FingerprintOf({}, EditPost{1, 9, BytesRef(""), std::nullopt}) !=
        rill::engine::CommandProcessor<BlogDomain>::FingerprintOf({}, EditPost{1, 9, std::nullopt, std::nullopt}));
}
