// Shared by the writer tests: a journal stand-in that keeps every record, and the registry of
// the reference domains' events.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "rill/codecs/schema_registry.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/blog/blog_domain.h"

namespace rill::testing {

// Stores each record in its own heap block (8-byte aligned, as the journal frames them) and
// numbers them from 1. fail_after: refuse every append after that many (a full disk).
struct VectorSink {
  struct Record {
    std::vector<std::uint64_t> words;  // uint64 storage keeps the bytes 8-byte aligned
    std::size_t size = 0;
    std::span<const std::uint8_t> bytes() const { return {reinterpret_cast<const std::uint8_t*>(words.data()), size}; }
  };
  std::vector<Record> records;
  std::optional<std::size_t> fail_after;

  std::optional<std::uint64_t> operator()(std::span<const std::uint8_t> rec) {
    if (fail_after && records.size() >= *fail_after) return std::nullopt;
    Record r;
    r.words.resize((rec.size() + 7) / 8);
    std::memcpy(r.words.data(), rec.data(), rec.size());
    r.size = rec.size();
    records.push_back(std::move(r));
    return records.size();
  }
};

// A fresh random seed, or RILL_TEST_SEED when set; printed either way so a failure can be rerun.
inline std::uint64_t TestSeed(const char* test) {
  const char* env = std::getenv("RILL_TEST_SEED");
  const std::uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::printf("%s: seed %llu (rerun with RILL_TEST_SEED=%llu)\n", test, static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  return seed;
}

inline const codecs::SchemaRegistry& Registry() {
  static const codecs::SchemaRegistry reg = [] {
    codecs::SchemaRegistryBuilder b;
    rill::examples::bank::BankDomain::RegisterEvents(b);
    rill::examples::blog::BlogDomain::RegisterEvents(b);
    return std::move(b).Build().value();
  }();
  return reg;
}

}  // namespace rill::testing
