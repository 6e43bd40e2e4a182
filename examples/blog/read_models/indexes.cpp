#include "rill/examples/blog/read_models/indexes.h"

#include <algorithm>

#include "rill/examples/blog/blog_domain.h"
#include "rill/projections/read_model.h"

namespace rill::projections::blog {

using codecs::EventTraits;

// ---- RecentPublished ----------------------------------------------------------------------

std::size_t RecentPublished::Recent(std::span<RecentPost> out) const noexcept {
  for (;;) {
    const std::uint64_t count = count_.load(std::memory_order_acquire);  // see count_
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>({count, kRecentCapacity, out.size()}));
    bool lapped = false;
    for (std::size_t i = 0; i < n && !lapped; ++i) {
      const std::uint64_t seqno = count - i;  // the publish that filled this slot, if not overwritten
      std::uint64_t w[4];
      slots_[(seqno - 1) % kRecentCapacity].cell.Read(w);
      lapped = w[0] != seqno;  // the writer went round the ring meanwhile: start again
      out[i] = RecentPost{w[1], w[2], static_cast<std::int64_t>(w[3])};
    }
    if (!lapped) return n;
    SeqlockWords<4>::CpuRelax();
  }
}

const char* RecentPublished::Apply(const codecs::DecodedEvent& e) {
  const std::uint64_t id = e.stream_id();
  if (const auto* c = e.As<rill::blog::PostCreated>()) {
    if (id >= (std::uint64_t{1} << 32)) return "blog.recent_published: post id beyond 2^32";
    if (id >= author_.size()) author_.resize(std::max<std::size_t>(id + 1, 2 * author_.size()), 0);  // doubling
    author_[id] = c->author_id() + 1;
    return nullptr;
  }
  if (e.As<rill::blog::PostPublished>() == nullptr) return nullptr;
  if (id >= author_.size() || author_[id] == 0) return "blog.recent_published: publish of a post never created";
  const std::uint64_t seqno = count_.load(std::memory_order_relaxed) + 1;  // own value: one writer
  SeqlockWords<4>& cell = slots_[(seqno - 1) % kRecentCapacity].cell;
  cell.BeginWrite();
  cell.WriteWord(0, seqno);
  cell.WriteWord(1, id);
  cell.WriteWord(2, author_[id] - 1);
  cell.WriteWord(3, static_cast<std::uint64_t>(e.timestamp_ns()));
  cell.EndWrite();
  count_.store(seqno, std::memory_order_release);  // see count_
  return nullptr;
}

// Payload: the count, each slot's four words, then the author array.
void RecentPublished::Save(std::vector<std::byte>& out) const {
  out.clear();
  PutU64(out, count_.load(std::memory_order_relaxed));
  for (const Slot& s : slots_)
    for (std::size_t i = 0; i < 4; ++i) PutU64(out, s.cell.OwnWord(i));
  PutU64(out, author_.size());
  for (std::uint64_t a : author_) PutU64(out, a);
}

Status RecentPublished::Load(std::span<const std::byte> in) {
  ByteReader br(in);
  std::uint64_t count = 0, n = 0;
  std::uint64_t w[kRecentCapacity][4];
  if (!br.U64(&count)) return Status::Corruption("blog.recent_published checkpoint: truncated");
  for (auto& slot : w)
    for (auto& x : slot)
      if (!br.U64(&x)) return Status::Corruption("blog.recent_published checkpoint: truncated");
  if (!br.U64(&n) || n > (std::uint64_t{1} << 32))
    return Status::Corruption("blog.recent_published checkpoint: bad size");
  author_.assign(n, 0);
  for (auto& a : author_)
    if (!br.U64(&a)) return Status::Corruption("blog.recent_published checkpoint: truncated");
  for (std::size_t s = 0; s < kRecentCapacity; ++s) {
    slots_[s].cell.BeginWrite();
    for (std::size_t i = 0; i < 4; ++i) slots_[s].cell.WriteWord(i, w[s][i]);
    slots_[s].cell.EndWrite();
  }
  count_.store(count, std::memory_order_release);
  return Status::OK();
}

// ---- PostsByAuthor -------------------------------------------------------------------------

std::size_t PostsByAuthor::Posts(std::uint64_t author, std::span<std::uint64_t> out) const noexcept {
  const Record* r = authors_.Find(author);
  if (r == nullptr) return 0;
  std::size_t n = 0;
  r->cell.ReadWith([&](const auto& c) {
    const std::uint64_t count = c.LoadWord(0);
    n = static_cast<std::size_t>(std::min<std::uint64_t>({count, kAuthorPostsCapacity, out.size()}));
    for (std::size_t i = 0; i < n; ++i) out[i] = c.LoadWord(1 + (count - 1 - i) % kAuthorPostsCapacity);
  });
  return n;
}

std::uint64_t PostsByAuthor::PostCount(std::uint64_t author) const noexcept {
  const Record* r = authors_.Find(author);
  if (r == nullptr) return 0;
  std::uint64_t w[kWords];
  r->cell.Read(w);
  return w[0];
}

const char* PostsByAuthor::Apply(const codecs::DecodedEvent& e) {
  const auto* c = e.As<rill::blog::PostCreated>();
  if (c == nullptr) return nullptr;
  Record* r = authors_.GetOrCreate(c->author_id());
  if (r == nullptr) return "blog.posts_by_author: author id beyond PostsByAuthorOptions::max_authors";
  const std::uint64_t count = r->cell.OwnWord(0);
  r->cell.BeginWrite();
  r->cell.WriteWord(0, count + 1);
  r->cell.WriteWord(1 + count % kAuthorPostsCapacity, e.stream_id());
  r->cell.EndWrite();
  return nullptr;
}

void PostsByAuthor::Save(std::vector<std::byte>& out) const {
  out.clear();
  PutU64(out, authors_.max_ids());
  authors_.ForEachChunk([&](std::uint64_t first, const auto& chunk) {
    PutU64(out, first);
    for (const Record& r : chunk.records)
      for (std::size_t i = 0; i < kWords; ++i) PutU64(out, r.cell.OwnWord(i));
  });
}

Status PostsByAuthor::Load(std::span<const std::byte> in) {
  ByteReader br(in);
  std::uint64_t max_ids = 0, first = 0;
  if (!br.U64(&max_ids) || max_ids != authors_.max_ids())
    return Status::InvalidArgument("blog.posts_by_author checkpoint was written with another max_authors");
  while (!br.done()) {
    if (!br.U64(&first) || first >= max_ids) return Status::Corruption("blog.posts_by_author checkpoint: bad chunk");
    for (std::size_t k = 0; k < decltype(authors_)::kChunkSize; ++k) {
      Record* r = authors_.GetOrCreate(first + k);
      if (r == nullptr) return Status::Corruption("blog.posts_by_author checkpoint: id beyond max_authors");
      bool ok = true;
      r->cell.BeginWrite();
      for (std::size_t i = 0; i < kWords && ok; ++i) {
        std::uint64_t v = 0;
        ok = br.U64(&v);
        r->cell.WriteWord(i, v);
      }
      r->cell.EndWrite();
      if (!ok) return Status::Corruption("blog.posts_by_author checkpoint: truncated");
    }
  }
  return Status::OK();
}

// ---- CommentCounts -------------------------------------------------------------------------

const char* CommentCounts::Apply(const codecs::DecodedEvent& e) {
  const std::uint64_t id = e.stream_id();
  if (e.As<rill::blog::PostCreated>() != nullptr) {
    std::atomic<std::uint64_t>* c = posts_.GetOrCreate(id);
    if (c == nullptr) return "blog.comment_counts: post id beyond CommentCountsOptions::max_posts";
    if (c->load(std::memory_order_relaxed) != 0) return "blog.comment_counts: post created twice";
    c->store(1, std::memory_order_relaxed);  // relaxed: a single word; the batch's publish orders it
    return nullptr;
  }
  if (e.As<rill::blog::CommentAdded>() == nullptr) return nullptr;
  std::atomic<std::uint64_t>* c = posts_.FindMutable(id);
  if (c == nullptr || c->load(std::memory_order_relaxed) == 0)
    return "blog.comment_counts: comment on a post never created";
  c->store(c->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one writer: no RMW needed
  return nullptr;
}

void CommentCounts::Save(std::vector<std::byte>& out) const {
  out.clear();
  PutU64(out, posts_.max_ids());
  posts_.ForEachChunk([&](std::uint64_t first, const auto& chunk) {
    PutU64(out, first);
    for (const auto& c : chunk.records) PutU64(out, c.load(std::memory_order_relaxed));
  });
}

Status CommentCounts::Load(std::span<const std::byte> in) {
  ByteReader br(in);
  std::uint64_t max_ids = 0, first = 0;
  if (!br.U64(&max_ids) || max_ids != posts_.max_ids())
    return Status::InvalidArgument("blog.comment_counts checkpoint was written with another max_posts");
  while (!br.done()) {
    if (!br.U64(&first) || first >= max_ids) return Status::Corruption("blog.comment_counts checkpoint: bad chunk");
    for (std::size_t k = 0; k < decltype(posts_)::kChunkSize; ++k) {
      std::uint64_t v = 0;
      if (!br.U64(&v)) return Status::Corruption("blog.comment_counts checkpoint: truncated");
      std::atomic<std::uint64_t>* c = posts_.GetOrCreate(first + k);
      if (c == nullptr) return Status::Corruption("blog.comment_counts checkpoint: id beyond max_posts");
      c->store(v, std::memory_order_relaxed);
    }
  }
  return Status::OK();
}

}  // namespace rill::projections::blog
