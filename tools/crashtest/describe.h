// rill/tools/crashtest/describe.h: a domain's commands and events in words, for the crash test's
// messages, with no code in the domain: the alternative's type name and its fields in order.
//
//   DescribeValue(cmd)   // "PlaceOrder{17, 3, 2}"  (a std::variant: the alternative it holds)
//
// A type with a kName (generated events: "inventory.OrderPlaced") is named by it. Fields come from
// field_reflection.h; integers, enums and bools print as numbers, BytesRef as
// its length, anything else (or a struct that cannot be taken apart) as "?".
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "rill/engine/aggregates.h"
#include "rill/engine/bytes_ref.h"
#include "rill/engine/field_reflection.h"

namespace rill::tools::crashtest {

// "PlaceOrder" from "inventory::PlaceOrder".
template <typename T>
std::string ShortTypeName() {
  const std::string_view full = engine::KindName<T>();
  const std::size_t colon = full.rfind("::");
  return std::string(colon == std::string_view::npos ? full : full.substr(colon + 2));
}

// A generated event's own name ("inventory.OrderPlaced"), else the short type name.
template <typename T>
std::string Name() {
  if constexpr (requires { std::string_view(T::kName); }) {
    return std::string(T::kName);
  } else {
    return ShortTypeName<T>();
  }
}

template <typename T>
std::string DescribeField(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(v);
  } else if constexpr (std::is_enum_v<T>) {
    return std::to_string(static_cast<std::underlying_type_t<T>>(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    return std::to_string(v);
  } else if constexpr (std::is_same_v<T, engine::BytesRef>) {
    return "<" + std::to_string(v.size()) + " bytes>";
  } else {
    return "?";
  }
}

template <typename T>
std::string DescribeValue(const T& v) {
  if constexpr (requires { std::variant_size<T>::value; }) {
    return std::visit([](const auto& alt) { return DescribeValue(alt); }, v);
  } else if constexpr (engine::kReflectable<T>) {
    std::string s = Name<T>() + "{";
    engine::VisitFields(v, [&](const auto&... f) {
      bool first = true;
      ((s += (first ? "" : ", ") + DescribeField(f), first = false), ...);
    });
    return s + "}";
  } else {
    return Name<T>();
  }
}

}  // namespace rill::tools::crashtest
