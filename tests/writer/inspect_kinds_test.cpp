// rill inspect on a two-kind domain with aggregates that end: streams are named by their kind
// ("Order 3"), the same id in two kinds is two streams, and a stream that ended may start
// again at version 1 without verify calling it a gap.
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "rill/engine/engine.h"
#include "rill/tests/support/temp_dir.h"
#include "rill/tools/inspect/inspect_dump.h"
#include "rill/tools/inspect/inspect_stats.h"
#include "rill/tools/inspect/inspect_verify.h"
#include "shop_domain.h"

namespace {

using namespace rill::testing::shop;
namespace ti = rill::tools::inspect;

// fn(out, err) with both streams captured.
template <typename Fn>
int Capture(std::string* out, Fn&& fn) {
  char* buf = nullptr;
  std::size_t size = 0;
  std::FILE* o = open_memstream(&buf, &size);
  std::FILE* e = std::tmpfile();
  const int code = fn(o, e);
  std::fclose(o);
  std::fclose(e);
  out->assign(buf, size);
  std::free(buf);
  return code;
}

// Sku 1 and Order 1 share an id; order 3 ends, then is placed again.
void WriteShopJournal(const std::string& dir) {
  rill::engine::EngineOptions o;
  o.journal.directory = dir;
  o.journal.segment_size = 1u << 20;
  o.ring_size = 64;
  o.log_to_stderr = false;
  auto e = rill::engine::Engine<ShopDomain>::Open(o);
  REQUIRE(e.ok());
  auto& engine = **e;
  std::uint64_t id = 0;
  REQUIRE(engine.execute(AddStock{1, 100}, {++id}).accepted());
  for (std::uint64_t order = 1; order <= 3; ++order) REQUIRE(engine.execute(Place{order, 1, 2}, {++id}).accepted());
  REQUIRE(engine.execute(Ship{3}, {++id}).accepted());
  REQUIRE(engine.execute(Place{3, 1, 1}, {++id}).accepted());
  engine.Stop();
}

TEST_CASE("inspect names streams by kind and accepts a stream that starts again after its end",
          "[tools][inspect][kinds]") {
  rill::test::TempDir tmp("rill-inspect-kinds");
  WriteShopJournal(tmp.Sub("j"));

  std::string out;
  CHECK(Capture(&out, [&](std::FILE* o, std::FILE* e) { return ti::RunVerify({.dir = tmp.Sub("j")}, o, e); }) == 0);
  INFO(out);
  CHECK(out.find("PROBLEMS") == std::string::npos);
  CHECK(out.find("5 streams (1 ended)") != std::string::npos);  // Sku 1, orders 1-3, order 3 again

  ti::DumpOptions d;
  d.dir = tmp.Sub("j");
  REQUIRE(Capture(&out, [&](std::FILE* o, std::FILE* e) { return ti::RunDump(d, o, e); }) == 0);
  CHECK(out.find("Sku 1 v1") != std::string::npos);
  CHECK(out.find("Order 1 v1") != std::string::npos);
  CHECK(out.find("Order 3 v2") != std::string::npos);  // shipped: the end
  const std::size_t again = out.rfind("Order 3 v1");
  CHECK(again != std::string::npos);
  CHECK(again > out.find("Order 3 v2"));  // placed again after its end
  CHECK(out.find("stream ") == std::string::npos);

  // --stream KIND:ID selects one kind's stream; a bare id selects it in every kind.
  d.stream = ti::ParseStreamSelector("Order:1");
  REQUIRE(Capture(&out, [&](std::FILE* o, std::FILE* e) { return ti::RunDump(d, o, e); }) == 0);
  CHECK(out.find("Order 1 v1") != std::string::npos);
  CHECK(out.find("Sku 1") == std::string::npos);
  d.stream = ti::ParseStreamSelector("1");
  REQUIRE(Capture(&out, [&](std::FILE* o, std::FILE* e) { return ti::RunDump(d, o, e); }) == 0);
  CHECK(out.find("Order 1 v1") != std::string::npos);
  CHECK(out.find("Sku 1 v1") != std::string::npos);

  d.stream.reset();
  d.json = true;
  REQUIRE(Capture(&out, [&](std::FILE* o, std::FILE* e) { return ti::RunDump(d, o, e); }) == 0);
  CHECK(out.find("\"aggregate\":\"Order\"") != std::string::npos);

  ti::StatsOptions s;
  s.dir = tmp.Sub("j");
  REQUIRE(Capture(&out, [&](std::FILE* o, std::FILE* e) { return ti::RunStats(s, o, e); }) == 0);
  CHECK(out.find("Sku 1 ") != std::string::npos);
  CHECK(out.find("Order 3 ") != std::string::npos);
}

TEST_CASE("a stream selector is an id or KIND:ID", "[tools][inspect][kinds]") {
  CHECK(ti::ParseStreamSelector("42")->id == 42);
  CHECK(ti::ParseStreamSelector("42")->kind.empty());
  CHECK(ti::ParseStreamSelector("Order:17")->kind == "Order");
  CHECK(ti::ParseStreamSelector("Order:17")->id == 17);
  CHECK_FALSE(ti::ParseStreamSelector(""));
  CHECK_FALSE(ti::ParseStreamSelector(":17"));
  CHECK_FALSE(ti::ParseStreamSelector("Order:"));
  CHECK_FALSE(ti::ParseStreamSelector("-1"));
  CHECK_FALSE(ti::ParseStreamSelector("17x"));
}

}  // namespace
