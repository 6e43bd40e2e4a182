// Tests of projections/blog/*: each blog read model against a reference computed by the test,
// over a seeded random workload (seed printed; rerun one with RILL_TEST_SEED=<n>).
#include <catch2/catch.hpp>

#include <array>
#include <deque>

#include "projection_test_util.h"
#include "rill/examples/blog/read_models/indexes.h"
#include "rill/examples/blog/read_models/post_details.h"
#include "rill/projections/projector_thread.h"

using namespace rill::projections;
using namespace std::chrono_literals;
using rill::projections::test::JournalBuilder;
using rill::projections::test::Registry;
using rill::projections::test::TempDir;

namespace {

struct RefPost {
  std::uint64_t author = 0;
  std::string title, body;
  bool published = false;
  std::int64_t created_ns = 0, published_ns = 0;
  std::uint64_t comments = 0, version = 0;
};

std::string Text(std::mt19937_64& rng, std::size_t max) {
  static const std::string_view kPieces[] = {"a", "bc", "déf", "€", "ghij ", "日本", "k"};  // multi-byte UTF-8 too
  std::vector<char> s;  // not std::string +=: GCC 12 reports a false -Wrestrict there
  const std::size_t n = rng() % max;
  while (s.size() < n) {
    const std::string_view piece = kPieces[rng() % 7];
    s.insert(s.end(), piece.begin(), piece.end());
  }
  return std::string(s.begin(), s.end());
}

}  // namespace

TEST_CASE("blog read models match the reference over a seeded random workload", "[projections][blog]") {
  const std::uint64_t seed = rill::projections::test::SeedFromEnvOr(777);
  INFO("seed " << seed);
  std::printf("blog read models: seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  JournalBuilder j(dir.path());
  std::map<std::uint64_t, RefPost> posts;
  std::map<std::uint64_t, std::vector<std::uint64_t>> by_author;
  std::vector<rill::projections::blog::RecentPost> published;
  std::uint64_t next_post = 1;
  for (int i = 0; i < 2000; ++i) {
    const int r = static_cast<int>(rng() % 100);
    if (posts.empty() || r < 25) {
      const std::uint64_t id = next_post++, author = 1 + rng() % 9;
      RefPost& p = posts[id];
      p.author = author;
      p.title = Text(rng, 200) + std::string(1, 't');  // sometimes over kTitleCapacity; never empty
      p.body = Text(rng, 1500);                        // sometimes over kBodyCapacity
      p.version = 1;
      p.created_ns = j.now_ns();  // the envelope's timestamp
      j.Add<rill::blog::PostCreated>(id, 1, [&](auto& f) {
        return rill::blog::CreatePostCreatedDirect(f, author, p.title.c_str(), p.body.c_str());
      });
      by_author[author].push_back(id);
    } else {
      const std::uint64_t id = 1 + rng() % (next_post - 1);
      RefPost& p = posts[id];
      const std::uint64_t v = ++p.version;
      if (r < 45) {
        const bool t = rng() & 1, b = rng() & 1;
        const std::string nt = t ? Text(rng, 150) : "x", nb = b ? Text(rng, 1200) : "";
        if (t) p.title = nt;
        if (b) p.body = nb;
        j.Add<rill::blog::PostEdited>(id, v, [&](auto& f) {
          return rill::blog::CreatePostEditedDirect(f, t ? nt.c_str() : nullptr, b ? nb.c_str() : nullptr);
        });
      } else if (r < 60 && !p.published) {
        p.published = true;
        p.published_ns = j.now_ns();
        published.push_back({id, p.author, p.published_ns});
        j.Add<rill::blog::PostPublished>(id, v, [&](auto& f) { return rill::blog::CreatePostPublished(f); });
      } else {
        ++p.comments;
        j.Add<rill::blog::CommentAdded>(
            id, v, [&](auto& f) { return rill::blog::CreateCommentAddedDirect(f, 100 + rng() % 5, "nice"); });
      }
    }
    j.Commit();
  }

  ProjectorThreadOptions o;
  o.journal_directory = dir.path();
  o.registry = &Registry();
  o.idle_wait_ns = 2'000'000;
  auto t = ProjectorThread::Create(o).value();
  auto* details = t->Add<blog::PostDetails>();
  auto* recent = t->Add<blog::RecentPublished>();
  auto* authors = t->Add<blog::PostsByAuthor>();
  auto* counts = t->Add<blog::CommentCounts>();
  REQUIRE(t->Start().ok());
  for (Projector* p : std::initializer_list<Projector*>{details, recent, authors, counts})
    REQUIRE(p->WaitFor(j.last(), 60s).ok());

  auto prefix_ok = [](const std::string& full, std::string_view got, bool truncated, std::size_t cap) {
    if (!truncated) return got == full;
    return got.size() <= cap && got.size() + 4 > cap && full.compare(0, got.size(), got) == 0;
  };
  auto d = std::make_unique<blog::PostDetail>();
  for (const auto& [id, ref] : posts) {
    INFO("post " << id);
    REQUIRE(details->model().Get(id, d.get()));
    CHECK(d->author == ref.author);
    CHECK(d->state == (ref.published ? blog::PostState::kPublished : blog::PostState::kDraft));
    CHECK(d->comments == ref.comments);
    CHECK(d->version == ref.version);
    CHECK(d->created_ns == ref.created_ns);
    CHECK(d->published_ns == ref.published_ns);
    CHECK(d->title_truncated == (ref.title.size() > blog::kTitleCapacity));
    CHECK(d->body_truncated == (ref.body.size() > blog::kBodyCapacity));
    CHECK(prefix_ok(ref.title, d->title_view(), d->title_truncated, blog::kTitleCapacity));
    CHECK(prefix_ok(ref.body, d->body_view(), d->body_truncated, blog::kBodyCapacity));
    CHECK(counts->model().Count(id) == ref.comments);
    CHECK(counts->model().Exists(id));
  }
  CHECK_FALSE(details->model().Get(next_post, d.get()));
  CHECK_FALSE(counts->model().Exists(next_post));

  std::array<blog::RecentPost, blog::kRecentCapacity + 5> page;
  const std::size_t n = recent->model().Recent(page);
  REQUIRE(n == std::min(published.size(), blog::kRecentCapacity));
  for (std::size_t i = 0; i < n; ++i) {
    const auto& want = published[published.size() - 1 - i];
    CHECK(page[i].post == want.post);
    CHECK(page[i].author == want.author);
    CHECK(page[i].published_ns == want.published_ns);
  }

  std::array<std::uint64_t, blog::kAuthorPostsCapacity> ids;
  for (const auto& [author, list] : by_author) {
    const std::size_t m = authors->model().Posts(author, ids);
    REQUIRE(m == std::min(list.size(), blog::kAuthorPostsCapacity));
    CHECK(authors->model().PostCount(author) == list.size());
    for (std::size_t i = 0; i < m; ++i) CHECK(ids[i] == list[list.size() - 1 - i]);
  }
  CHECK(authors->model().Posts(12345, ids) == 0);

  // Save/Load (the checkpoint payload) round-trips every blog model.
  std::vector<std::byte> bytes;
  blog::PostDetails details2;
  details->model().Save(bytes);  // safe here: the projector is idle (caught up) and Save only reads
  REQUIRE(details2.Load(bytes).ok());
  blog::RecentPublished recent2;
  recent->model().Save(bytes);
  REQUIRE(recent2.Load(bytes).ok());
  blog::PostsByAuthor authors2;
  authors->model().Save(bytes);
  REQUIRE(authors2.Load(bytes).ok());
  blog::CommentCounts counts2;
  counts->model().Save(bytes);
  REQUIRE(counts2.Load(bytes).ok());
  auto d2 = std::make_unique<blog::PostDetail>();
  for (const auto& [id, ref] : posts) {
    REQUIRE(details2.Get(id, d2.get()));
    REQUIRE(details->model().Get(id, d.get()));
    CHECK(d2->title_view() == d->title_view());
    CHECK(d2->body_view() == d->body_view());
    CHECK(d2->comments == d->comments);
    CHECK(counts2.Count(id) == ref.comments);
  }
  std::array<blog::RecentPost, blog::kRecentCapacity> page2;
  REQUIRE(recent2.Recent(page2) == n);
  for (std::size_t i = 0; i < n; ++i) CHECK(page2[i].post == page[i].post);
  for (const auto& [author, list] : by_author) CHECK(authors2.PostCount(author) == list.size());
}
