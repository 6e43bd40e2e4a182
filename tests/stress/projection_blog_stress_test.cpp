// Stress: blog queries from several threads while a projector thread applies (run under tsan).
//
// Forbidden outcomes:
//   1. a torn post: title and body from different edits (every edit k writes a title of
//      (k % 50) + 1 copies of letter 'a' + k % 26 and a body of 10 * ((k % 90) + 1) copies of
//      the same letter), or a size that does not match its letter;
//   2. a post's comment count or version going backwards for one query thread;
//   3. a recent-published entry whose author is not post_id % 7 (the rule the test writes),
//      or entries not newest-first (post ids published in increasing order);
//   4. a posts-by-author list naming a post of another author.
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "../projections/projection_test_util.h"
#include "rill/examples/blog/read_models/indexes.h"
#include "rill/examples/blog/read_models/post_details.h"
#include "rill/projections/projector_thread.h"

using namespace rill::projections;
using namespace std::chrono_literals;
using rill::projections::test::JournalBuilder;
using rill::projections::test::Registry;
using rill::projections::test::TempDir;

namespace {
std::string Title(int k) { return std::string(static_cast<std::size_t>(k % 50 + 1), static_cast<char>('a' + k % 26)); }
std::string Body(int k) {
  return std::string(static_cast<std::size_t>(10 * (k % 90 + 1)), static_cast<char>('a' + k % 26));
}
// (letter, title size, body size) -> index into the table of combinations some edit wrote.
std::size_t Key(char c, std::size_t title, std::size_t body) {
  if (c < 'a' || c > 'z' || title > 50 || body > 900 || body % 10 != 0) return 0;  // slot 0: never valid
  return 1 + (static_cast<std::size_t>(c - 'a') * 51 + title) * 91 + body / 10;
}
bool Uniform(std::string_view s, char c) {
  for (char x : s)
    if (x != c) return false;
  return true;
}
}  // namespace

TEST_CASE("blog queries never see torn posts or lists while a projector applies", "[stress][projections]") {
  TempDir dir;
  JournalBuilder j(dir.path(), 8 << 20);
  constexpr std::uint64_t kPost = 1;
  j.Add<rill::blog::PostCreated>(kPost, 1, [&](auto& f) {
    return rill::blog::CreatePostCreatedDirect(f, kPost % 7, Title(0).c_str(), Body(0).c_str());
  });
  j.Commit();

  ProjectorThreadOptions o;
  o.journal_directory = dir.path();
  o.registry = &Registry();
  o.max_batch_events = 16;
  o.idle_wait_ns = 2'000'000;
  auto t = ProjectorThread::Create(o).value();
  auto* details = t->Add<blog::PostDetails>();
  auto* recent = t->Add<blog::RecentPublished>();
  auto* authors = t->Add<blog::PostsByAuthor>();
  REQUIRE(t->Start().ok());
  REQUIRE(details->WaitFor(j.last(), 60s).ok());

  std::vector<bool> valid(1 + 26 * 51 * 91, false);
  for (int k = 0; k <= 3000; ++k) valid[Key(static_cast<char>('a' + k % 26), Title(k).size(), Body(k).size())] = true;
  valid[0] = false;

  std::atomic<bool> done{false};
  std::atomic<int> ready{0};
  std::atomic<int> kinds[5] = {};
  auto reader = [&] {
    auto d = std::make_unique<blog::PostDetail>();
    std::uint64_t last_comments = 0, last_version = 0;
    std::array<blog::RecentPost, 10> page;
    std::array<std::uint64_t, blog::kAuthorPostsCapacity> ids;
    bool first = true;
    while (!done.load(std::memory_order_relaxed)) {
      if (details->model().Get(kPost, d.get())) {
        const char c = d->title_size ? d->title[0] : '?';
        if (!Uniform(d->title_view(), c) || !Uniform(d->body_view(), c) || !valid[Key(c, d->title_size, d->body_size)])
          kinds[1].fetch_add(1);
        if (d->comments < last_comments || d->version < last_version) kinds[2].fetch_add(1);
        last_comments = d->comments;
        last_version = d->version;
      }
      const std::size_t n = recent->model().Recent(page);
      for (std::size_t i = 0; i < n; ++i) {
        if (page[i].author != page[i].post % 7) kinds[3].fetch_add(1);
        if (i + 1 < n && page[i].post <= page[i + 1].post) kinds[3].fetch_add(1);
      }
      for (std::uint64_t a = 0; a < 7; ++a) {
        const std::size_t m = authors->model().Posts(a, ids);
        for (std::size_t i = 0; i < m; ++i)
          if (ids[i] % 7 != a) kinds[4].fetch_add(1);
      }
      if (first) ready.fetch_add(1);
      first = false;
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) readers.emplace_back(reader);
  while (ready.load() < 2) std::this_thread::yield();

  std::uint64_t version = 1;
  for (int k = 1; k <= 3000; ++k) {
    const std::string title = Title(k), body = Body(k);
    j.Add<rill::blog::PostEdited>(
        kPost, ++version, [&](auto& f) { return rill::blog::CreatePostEditedDirect(f, title.c_str(), body.c_str()); });
    j.Add<rill::blog::CommentAdded>(kPost, ++version,
                                    [&](auto& f) { return rill::blog::CreateCommentAddedDirect(f, 9, "x"); });
    const std::uint64_t p = 100 + static_cast<std::uint64_t>(k);  // a new post, published at once
    j.Add<rill::blog::PostCreated>(p, 1,
                                   [&](auto& f) { return rill::blog::CreatePostCreatedDirect(f, p % 7, "t", "b"); });
    j.Add<rill::blog::PostPublished>(p, 2, [&](auto& f) { return rill::blog::CreatePostPublished(f); });
    j.Commit();
  }
  REQUIRE(details->WaitFor(j.last(), 60s).ok());
  REQUIRE(recent->WaitFor(j.last(), 60s).ok());
  REQUIRE(authors->WaitFor(j.last(), 60s).ok());
  done.store(true);
  for (auto& r : readers) r.join();
  for (int k = 1; k < 5; ++k) {
    INFO("forbidden outcome " << k);
    CHECK(kinds[k].load() == 0);
  }
  auto d = std::make_unique<blog::PostDetail>();
  REQUIRE(details->model().Get(kPost, d.get()));
  CHECK(d->comments == 3000);
  CHECK(d->title_view() == Title(3000));
}
