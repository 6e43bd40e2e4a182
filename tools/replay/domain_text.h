// rill/tools/replay/domain_text.h: a domain's aggregate kinds and states as text, for tools
// that know the domain only as a template parameter (`rill replay --stream`, its per-kind
// counts).
//
//   std::vector<std::string> kinds = rill::tools::KindNames<ShopDomain>(registry);  // {"Sku", "Order"}
//   std::string s = rill::tools::FieldsText(account);                             // "{1000, 7, 978, false}"
//
// Kind names are the schema's (rill_aggregate, what `rill inspect` prints), so every tool names
// a kind the same way; a single-kind domain's schema names none, and then the state type's own
// name stands in ("Account").
// Thread safety: pure functions.
#pragma once

#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/codecs/encoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/aggregates.h"
#include "rill/engine/domain_kinds.h"
#include "rill/engine/field_reflection.h"

namespace rill::tools {

namespace domain_text_internal {

// "ns::Order" -> "Order" (a template's arguments keep their qualifiers: "Box<ns::X>").
inline std::string Unqualified(std::string_view name) {
  const std::size_t end = name.find('<');
  const std::size_t colon = name.substr(0, end).rfind("::");
  return std::string(colon == std::string_view::npos ? name : name.substr(colon + 2));
}

// The schema's kind of event alternative I, into names[kind of I] when still unnamed. The C++
// event's kind is known at compile time, its schema type only from what Encode writes: encoding
// one default event per alternative joins the two, once, at start-up.
template <typename D, std::size_t I>
void NameKindOf(codecs::Encoder& encoder, codecs::Decoder& decoder, std::vector<std::string>& names) {
  using E = std::tuple_element_t<I, engine::EventAlternatives<D>>;
  constexpr std::size_t kind = engine::kEventKinds<D>[I];
  if constexpr (std::is_default_constructible_v<E>) {
    if (!names[kind].empty()) return;
    typename D::Event event = [] {
      if constexpr (requires { std::variant_size<typename D::Event>::value; }) {
        return typename D::Event(std::in_place_index<I>);
      } else {
        return typename D::Event{};
      }
    }();
    const std::span<const std::uint8_t> record = D::Encode(encoder, {.stream_id = 1, .stream_version = 1}, event);
    // Trusted: the bytes come from this process's Encoder (Decoder::DecodeTrusted's rule).
    const codecs::DecodeResult decoded = decoder.DecodeTrusted(record, 1);
    if (decoded.ok()) names[kind] = decoded.event().type().aggregate;
  }
}

template <typename T>
void AppendValue(std::string& out, const T& v);

template <typename T>
void AppendFields(std::string& out, const T& v) {
  out += '{';
  bool first = true;
  auto one = [&](const auto& field) {
    if (!first) out += ", ";
    first = false;
    AppendValue(out, field);
  };
  engine::VisitFields(v, [&](const auto&... field) { (one(field), ...); });
  out += '}';
}

template <typename T>
void AppendValue(std::string& out, const T& v) {
  char s[40];
  if constexpr (std::is_same_v<T, bool>) {
    out += v ? "true" : "false";
  } else if constexpr (std::is_enum_v<T>) {
    AppendValue(out, static_cast<std::underlying_type_t<T>>(v));
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    std::snprintf(s, sizeof s, "%" PRId64, static_cast<std::int64_t>(v));
    out += s;
  } else if constexpr (std::is_integral_v<T>) {
    std::snprintf(s, sizeof s, "%" PRIu64, static_cast<std::uint64_t>(v));
    out += s;
  } else if constexpr (std::is_floating_point_v<T>) {
    std::snprintf(s, sizeof s, "%.17g", static_cast<double>(v));
    out += s;
  } else if constexpr (engine::kReflectable<T>) {
    AppendFields(out, v);
  } else {
    out += '?';
  }
}

}  // namespace domain_text_internal

// The names of D's aggregate kinds, in kind order (engine::KindsOf<D>): the rill_aggregate of
// the kind's events in `registry` (D's own), else the state type's unqualified C++ name.
template <typename D>
std::vector<std::string> KindNames(const codecs::SchemaRegistry* registry) {
  std::vector<std::string> names(engine::kKindCount<D>);
  if (registry != nullptr) {
    codecs::Encoder encoder;
    codecs::Decoder decoder(*registry);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (domain_text_internal::NameKindOf<D, I>(encoder, decoder, names), ...);
    }
    (std::make_index_sequence<engine::kEventAlternatives<D>>{});
  }
  engine::ForEachKind<D>([&](auto kc) {
    if (names[kc.value].empty())
      names[kc.value] = domain_text_internal::Unqualified(engine::KindName<engine::KindAt<D, kc.value>>());
  });
  return names;
}

// A plain struct's fields in declaration order (engine/field_reflection.h): "{1000, 7, 978,
// false}"; integers, enums (their value), bools, floating point, nested structs in braces.
// REQUIRES: T is a plain aggregate without array members (what the state digest hashes).
template <typename T>
std::string FieldsText(const T& value) {
  std::string out;
  domain_text_internal::AppendValue(out, value);
  return out;
}

}  // namespace rill::tools
