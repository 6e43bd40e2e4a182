// rill/engine/bytes_ref.h: a view of caller-owned bytes inside a fixed-size command (a blog
// post's title), so that a command stays trivially copyable and fits a ring slot.
//
//   rill::examples::blog::CreatePost cmd{.post = 7, .author = 1, .title = rill::engine::BytesRef(title)};
//   auto outcome = engine.execute(cmd);   // `title` must stay alive until the outcome is known
//
// Lifetime contract: the bytes must remain live and unchanged until the command completes
// (its outcome is delivered). execute() blocks, so a local std::string is enough there; with
// submit() the caller keeps the buffer until the handle or callback reports the outcome.
// The writer encodes the bytes into the journal while the command is processed, so nothing
// refers to them afterwards. Each domain states its per-field limit (engine/README.md)
// and rejects larger fields with kInvalidCommand before anything else happens.
// Thread safety: a plain value.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace rill::engine {

class BytesRef {
 public:
  constexpr BytesRef() noexcept = default;
  constexpr BytesRef(const char* data, std::size_t size) noexcept : data_(data), size_(size) {}
  constexpr BytesRef(const char* c_string) noexcept  // NOLINT: a view
      : data_(c_string), size_(c_string == nullptr ? 0 : std::char_traits<char>::length(c_string)) {}
  constexpr BytesRef(std::string_view s) noexcept : data_(s.data()), size_(s.size()) {}  // NOLINT: a view
  BytesRef(const std::string& s) noexcept : data_(s.data()), size_(s.size()) {}          // NOLINT: a view

  constexpr const char* data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr std::string_view view() const noexcept { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

static_assert(std::is_trivially_copyable_v<BytesRef>);

}  // namespace rill::engine
