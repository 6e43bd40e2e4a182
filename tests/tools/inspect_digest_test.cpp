// `rill inspect` on a journal the engine wrote with digest records (journal record type 2):
// verify calls it intact, info and stats count the digests as other records, dump shows them raw.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "inspect_test_util.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/tests/support/bank_digest_journal.h"
#include "rill/tools/inspect/inspect_dump.h"
#include "rill/tools/inspect/inspect_info.h"
#include "rill/tools/inspect/inspect_stats.h"
#include "rill/tools/inspect/inspect_verify.h"
#include "rill/tools/inspect/journal_view.h"

namespace {

using namespace rill::examples::bank;
using rill::tools::test::Capture;
using rill::tools::test::Lines;
using rill::tools::test::TempDir;
namespace inspect = rill::tools::inspect;

inspect::DumpOptions Dump(const std::string& dir, bool json = false, const std::string& type = "") {
  inspect::DumpOptions o;
  o.dir = dir;
  o.json = json;
  o.type = type;
  return o;
}
inspect::InfoOptions Info(const std::string& dir) {
  inspect::InfoOptions o;
  o.dir = dir;
  return o;
}
inspect::StatsOptions Stats(const std::string& dir) {
  inspect::StatsOptions o;
  o.dir = dir;
  return o;
}

}  // namespace

TEST_CASE("inspect reads an engine journal with digest records", "[tools][inspect][digest]") {
  TempDir tmp("rill-inspect-digest");
  const std::string dir = tmp.Sub("j");
  const std::uint64_t digests = rill::test::WriteBankDigestJournal(dir).digests;
  REQUIRE(digests >= 1);
  const std::string other =
      "other records: " + std::to_string(digests) + " (record type 2 digest: " + std::to_string(digests) + ")";

  SECTION("verify: intact, exit 0") {
    const auto o = Capture([&](std::FILE* out, std::FILE* err) { return inspect::RunVerify({.dir = dir}, out, err); });
    INFO(o.out << o.err);
    CHECK(o.exit == inspect::kExitOk);
    CHECK(o.out.find("result       intact") != std::string::npos);
    CHECK(o.out.find("events       ok: 40 bodies verified") != std::string::npos);
    CHECK(o.out.find("other records: " + std::to_string(digests)) != std::string::npos);
    CHECK(o.err.empty());
    const auto cli = rill::tools::test::RunRill(tmp, "inspect verify " + dir);
    INFO(cli.out << cli.err);
    CHECK(cli.exit == 0);
  }
  SECTION("info and stats: digests counted apart from the events") {
    const auto i = Capture([&](std::FILE* out, std::FILE* err) { return inspect::RunInfo(Info(dir), out, err); });
    INFO(i.out << i.err);
    CHECK(i.exit == inspect::kExitOk);
    CHECK(i.out.find("events       40 in ") != std::string::npos);
    CHECK(i.out.find(other) != std::string::npos);
    CHECK(i.out.find("problems") == std::string::npos);
    CHECK(i.out.find("undecodable") == std::string::npos);
    const auto s = Capture([&](std::FILE* out, std::FILE* err) { return inspect::RunStats(Stats(dir), out, err); });
    INFO(s.out << s.err);
    CHECK(s.exit == inspect::kExitOk);
    CHECK(s.out.find(other) != std::string::npos);
    CHECK(s.out.find("undecodable") == std::string::npos);
  }
  SECTION("dump: digests printed raw, with their fields") {
    const auto d = Capture([&](std::FILE* out, std::FILE* err) { return inspect::RunDump(Dump(dir), out, err); });
    INFO(d.out << d.err);
    CHECK(d.exit == inspect::kExitOk);
    std::uint64_t raw = 0, events = 0;
    for (const std::string& line : Lines(d.out)) {
      CHECK(line.find("undecodable") == std::string::npos);
      if (line.find("record type 2  16 bytes  digest ") != std::string::npos) {
        CHECK(line.find(" covers position ") != std::string::npos);
        ++raw;
      } else if (line.find("bank.") != std::string::npos) {
        ++events;
      }
    }
    CHECK(raw == digests);
    CHECK(events == 40);
    const auto j = Capture([&](std::FILE* out, std::FILE* err) { return inspect::RunDump(Dump(dir, true), out, err); });
    CHECK(j.exit == inspect::kExitOk);
    CHECK(j.out.find("\"record_type\":2,\"size\":16,\"digest\":\"") != std::string::npos);
    // A --type filter selects events only.
    const auto t = Capture(
        [&](std::FILE* out, std::FILE* err) { return inspect::RunDump(Dump(dir, false, "bank.Deposited"), out, err); });
    CHECK(t.exit == inspect::kExitOk);
    CHECK(Lines(t.out).size() == 36);
  }
}
