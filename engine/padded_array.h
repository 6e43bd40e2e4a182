// rill/engine/padded_array.h: a fixed array, allocated once, with a false-sharing gap on both ends.
//
//   rill::engine::PaddedArray<Command> slots(1024);   // 1024 Commands built now, once
//   slots[7].id = 42;                                   // no allocation from here on
//
// The ring's slots and the multi-producer availability flags live here. The gap keeps the
// first and last elements off cache lines that some unrelated heap neighbour writes. Each
// element is constructed exactly once (value-initialised) and destroyed exactly once.
// Thread safety: as for a plain array; synchronisation is the owner's business.
#pragma once

#include <algorithm>
#include <cstddef>
#include <new>
#include <type_traits>

#include "rill/base/cache_line.h"

namespace rill::engine {

template <typename T>
class PaddedArray {
  static_assert(std::is_nothrow_default_constructible_v<T>,
                "ring slots are built once, up front: the slot type needs a noexcept default constructor");
  static_assert(std::is_nothrow_destructible_v<T>, "the slot type must have a noexcept destructor");

 public:
  static constexpr std::size_t kAlign = std::max(kFalseSharingRange, alignof(T));
  // Whole elements of padding on each side, so the gap is at least kFalseSharingRange bytes.
  static constexpr std::size_t kPad = (kFalseSharingRange + sizeof(T) - 1) / sizeof(T);

  explicit PaddedArray(std::size_t size)
      : raw_(static_cast<std::byte*>(::operator new ((size + 2 * kPad) * sizeof(T), std::align_val_t{kAlign}))),
        data_(reinterpret_cast<T*>(raw_) + kPad),
        size_(size) {
    // noexcept construction (asserted above), so no partial-construction cleanup is needed.
    for (std::size_t i = 0; i < size_; ++i) ::new (static_cast<void*>(data_ + i)) T();
  }
  ~PaddedArray() {
    for (std::size_t i = 0; i < size_; ++i) data_[i].~T();
    ::operator delete (raw_, std::align_val_t{kAlign});
  }
  PaddedArray(const PaddedArray&) = delete;
  PaddedArray& operator=(const PaddedArray&) = delete;

  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  std::size_t size() const noexcept { return size_; }

 private:
  std::byte* raw_;
  T* data_;  // raw_ + kPad elements, so still aligned for T (and to 128 when sizeof(T) divides 128)
  std::size_t size_;
};

}  // namespace rill::engine
