// Shared by the decode fuzzer and its seed writer: the registries under test and the inputs'
// first byte, which picks what the rest of the input is.
#pragma once

#include <cstdint>
#include <utility>

#include "rill/codecs/schema_registry.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/blog/blog_domain.h"

namespace rill::codecs::fuzz {

enum class Mode : std::uint8_t {
  kRecord = 0,  // the rest is a journal record (envelope + body), decoded by both registries
  kBlob = 1,    // the rest is a schema blob, loaded by SchemaRegistry::FromBlob
};

inline SchemaRegistry ReferenceRegistry() {
  SchemaRegistryBuilder b;
  rill::examples::bank::BankDomain::RegisterEvents(b);
  rill::examples::blog::BlogDomain::RegisterEvents(b);
  return std::move(b).Build().value();
}

}  // namespace rill::codecs::fuzz
