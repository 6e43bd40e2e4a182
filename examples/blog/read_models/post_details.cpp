#include "rill/examples/blog/read_models/post_details.h"

#include <cstring>

#include "rill/examples/blog/blog_domain.h"
#include "rill/projections/read_model.h"

namespace rill::projections::blog {

using codecs::EventTraits;

namespace {
constexpr std::uint64_t kTitleTruncated = std::uint64_t{1} << 40, kBodyTruncated = std::uint64_t{1} << 41;

// The longest prefix of text that fits in capacity and does not split a UTF-8 character.
std::size_t CutPoint(std::string_view text, std::size_t capacity) {
  if (text.size() <= capacity) return text.size();
  std::size_t n = capacity;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // text[n]: first byte left out
  return n;
}
}  // namespace

bool PostDetails::Get(std::uint64_t post, PostDetail* out) const noexcept {
  const Record* r = posts_.Find(post);
  if (r == nullptr) return false;
  std::uint64_t meta = 0;
  r->cell.ReadWith([&](const auto& c) {  // the fixed fields, then only the text bytes in use
    meta = c.LoadWord(0);
    out->author = c.LoadWord(1);
    out->created_ns = static_cast<std::int64_t>(c.LoadWord(2));
    out->published_ns = static_cast<std::int64_t>(c.LoadWord(3));
    out->comments = c.LoadWord(4);
    out->version = c.LoadWord(5);
    // Clamped: a torn attempt may read a garbage size; the retry discards it.
    const std::size_t tw = (std::min<std::size_t>((meta >> 8) & 0xffff, kTitleCapacity) + 7) / 8;
    const std::size_t bw = (std::min<std::size_t>((meta >> 24) & 0xffff, kBodyCapacity) + 7) / 8;
    for (std::size_t i = 0; i < tw; ++i) {
      const std::uint64_t w = c.LoadWord(kMetaWords + i);
      std::memcpy(out->title + 8 * i, &w, 8);
    }
    for (std::size_t i = 0; i < bw; ++i) {
      const std::uint64_t w = c.LoadWord(kMetaWords + kTitleWords + i);
      std::memcpy(out->body + 8 * i, &w, 8);
    }
  });
  if ((meta & 0xff) == 0) return false;
  out->state = static_cast<PostState>(meta & 0xff);
  out->title_size = (meta >> 8) & 0xffff;
  out->body_size = (meta >> 24) & 0xffff;
  out->title_truncated = (meta & kTitleTruncated) != 0;
  out->body_truncated = (meta & kBodyTruncated) != 0;
  return true;
}

void PostDetails::WriteText(Record& r, std::size_t first_word, std::size_t capacity, std::string_view text,
                            std::size_t* size, bool* truncated) {
  const std::size_t n = CutPoint(text, capacity);
  *size = n;
  *truncated = n < text.size();
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < (n + 7) / 8; ++i) {
    const std::size_t take = std::min<std::size_t>(8, n - 8 * i);
    word = 0;
    std::memcpy(&word, text.data() + 8 * i, take);
    r.cell.WriteWord(first_word + i, word);
  }
}

const char* PostDetails::Apply(const codecs::DecodedEvent& e) {
  const std::uint64_t id = e.stream_id();
  switch (e.event_type()) {
    case EventTraits<rill::blog::PostCreated>::kTypeId: {
      const auto* c = e.As<rill::blog::PostCreated>();
      if (c == nullptr) return nullptr;
      Record* r = posts_.GetOrCreate(id);
      if (r == nullptr) return "blog.post_details: post id beyond PostDetailsOptions::max_posts";
      if ((r->cell.OwnWord(0) & 0xff) != 0) return "blog.post_details: post created twice";
      std::size_t ts = 0, bs = 0;
      bool tt = false, bt = false;
      r->cell.BeginWrite();
      WriteText(*r, kMetaWords, kTitleCapacity, c->title()->string_view(), &ts, &tt);
      WriteText(*r, kMetaWords + kTitleWords, kBodyCapacity, c->body() ? c->body()->string_view() : "", &bs, &bt);
      r->cell.WriteWord(0, static_cast<std::uint64_t>(PostState::kDraft) | (std::uint64_t{ts} << 8) |
                               (std::uint64_t{bs} << 24) | (tt ? kTitleTruncated : 0) | (bt ? kBodyTruncated : 0));
      r->cell.WriteWord(1, c->author_id());
      r->cell.WriteWord(2, static_cast<std::uint64_t>(e.timestamp_ns()));
      r->cell.WriteWord(3, 0);
      r->cell.WriteWord(4, 0);
      r->cell.WriteWord(5, e.stream_version());
      r->cell.EndWrite();
      return nullptr;
    }
    case EventTraits<rill::blog::PostEdited>::kTypeId: {
      const auto* ed = e.As<rill::blog::PostEdited>();
      if (ed == nullptr) return nullptr;
      Record* r = posts_.FindMutable(id);
      if (r == nullptr || (r->cell.OwnWord(0) & 0xff) == 0) return "blog.post_details: edit of a post never created";
      std::uint64_t meta = r->cell.OwnWord(0);
      r->cell.BeginWrite();
      if (ed->title()) {
        std::size_t ts = 0;
        bool tt = false;
        WriteText(*r, kMetaWords, kTitleCapacity, ed->title()->string_view(), &ts, &tt);
        meta = (meta & ~((std::uint64_t{0xffff} << 8) | kTitleTruncated)) | (std::uint64_t{ts} << 8) |
               (tt ? kTitleTruncated : 0);
      }
      if (ed->body()) {
        std::size_t bs = 0;
        bool bt = false;
        WriteText(*r, kMetaWords + kTitleWords, kBodyCapacity, ed->body()->string_view(), &bs, &bt);
        meta = (meta & ~((std::uint64_t{0xffff} << 24) | kBodyTruncated)) | (std::uint64_t{bs} << 24) |
               (bt ? kBodyTruncated : 0);
      }
      r->cell.WriteWord(0, meta);
      r->cell.WriteWord(5, e.stream_version());
      r->cell.EndWrite();
      return nullptr;
    }
    case EventTraits<rill::blog::PostPublished>::kTypeId: {
      if (e.As<rill::blog::PostPublished>() == nullptr) return nullptr;
      Record* r = posts_.FindMutable(id);
      if (r == nullptr || (r->cell.OwnWord(0) & 0xff) != static_cast<std::uint64_t>(PostState::kDraft))
        return "blog.post_details: publish of a post that is not a draft";
      r->cell.BeginWrite();
      r->cell.WriteWord(
          0, (r->cell.OwnWord(0) & ~std::uint64_t{0xff}) | static_cast<std::uint64_t>(PostState::kPublished));
      r->cell.WriteWord(3, static_cast<std::uint64_t>(e.timestamp_ns()));
      r->cell.WriteWord(5, e.stream_version());
      r->cell.EndWrite();
      return nullptr;
    }
    case EventTraits<rill::blog::CommentAdded>::kTypeId: {
      if (e.As<rill::blog::CommentAdded>() == nullptr) return nullptr;
      Record* r = posts_.FindMutable(id);
      if (r == nullptr || (r->cell.OwnWord(0) & 0xff) == 0) return "blog.post_details: comment on a post never created";
      r->cell.BeginWrite();
      r->cell.WriteWord(4, r->cell.OwnWord(4) + 1);
      r->cell.WriteWord(5, e.stream_version());
      r->cell.EndWrite();
      return nullptr;
    }
    default:
      return nullptr;
  }
}

// Payload: max_posts, then per allocated chunk: first id and every record's words.
void PostDetails::Save(std::vector<std::byte>& out) const {
  out.clear();
  PutU64(out, posts_.max_ids());
  posts_.ForEachChunk([&](std::uint64_t first, const auto& chunk) {
    PutU64(out, first);
    for (const Record& r : chunk.records)
      for (std::size_t i = 0; i < kWords; ++i) PutU64(out, r.cell.OwnWord(i));
  });
}

Status PostDetails::Load(std::span<const std::byte> in) {
  ByteReader br(in);
  std::uint64_t max_ids = 0;
  if (!br.U64(&max_ids) || max_ids != posts_.max_ids())
    return Status::InvalidArgument("blog.post_details checkpoint was written with another max_posts");
  std::uint64_t first = 0;
  while (!br.done()) {
    if (!br.U64(&first) || first >= max_ids) return Status::Corruption("blog.post_details checkpoint: bad chunk id");
    for (std::size_t k = 0; k < decltype(posts_)::kChunkSize; ++k) {
      Record* r = posts_.GetOrCreate(first + k);
      if (r == nullptr) return Status::Corruption("blog.post_details checkpoint: id beyond max_posts");
      r->cell.BeginWrite();
      bool ok = true;
      for (std::size_t i = 0; i < kWords && ok; ++i) {
        std::uint64_t v = 0;
        ok = br.U64(&v);
        r->cell.WriteWord(i, v);
      }
      r->cell.EndWrite();
      if (!ok) return Status::Corruption("blog.post_details checkpoint: truncated chunk");
    }
  }
  return Status::OK();
}

}  // namespace rill::projections::blog
