// `rill replay` on the bank through the generic path (RunReplay<BankWorkload>): the state as
// of the end, a position, a time; --stream with the workload's Describe and without it;
// --verify; the JSON field names; exit codes on bad input; and the real binary (RILL_BIN).
#include <sys/stat.h>
#include <sys/wait.h>

#include <cinttypes>
#include <cstdio>

#include "recovery_test_util.h"
#include "replay_test_util.h"
#include "rill/examples/bank/bank_workload.h"
#include "rill/examples/blog/blog_workload.h"
#include "rill/journal/journal_reader.h"
#include "rill/tools/inspect/journal_view.h"
#include "rill/tools/replay/replay.h"

namespace {

using namespace rill::recovery_test;
using rill::replay_test::Captured;
using rill::replay_test::JsonKeys;
using rill::replay_test::JsonObject;
using rill::tools::ReplayOptions;

Captured Run(const ReplayOptions& o) { return rill::replay_test::Replay<BankWorkload>(o); }

// The bank without hooks: replay falls back to the state's fields and prints no summary.
struct PlainBankWorkload {
  using Domain = BankDomain;
  struct Producer {
    Command Next() { return Deposit{1, 1}; }
  };
  explicit PlainBankWorkload(const rill::tools::WorkloadOptions&) {}
  std::vector<Command> Setup() const { return {}; }
  Producer MakeProducer(int) const { return {}; }
};
static_assert(rill::tools::Workload<PlainBankWorkload>);
static_assert(!rill::tools::kHasDescribe<PlainBankWorkload, Account>);

// A bank journal: 20 accounts (owner 100 + i), deposits of 100 each into account 1 in separate batches.
struct Journal {
  std::uint64_t after_opens = 0;      // position after the 20 opens
  std::int64_t time_after_opens = 0;  // a time between the opens and the deposits
  std::uint64_t end = 0;
};
Journal MakeJournal(const std::string& dir, std::uint64_t digest_interval) {
  Journal j;
  auto o = Options(dir);
  o.digest_interval_commands = digest_interval;
  auto e = Open(o);
  RunWorkload(*e, 1, 0, 20);
  j.after_opens = e->committed_position();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  j.time_after_opens =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  for (int i = 0; i < 10; ++i)
    REQUIRE(e->execute(Deposit{.account = 1, .amount = 100}, {.command_id = 50'000u + i}).accepted());
  j.end = e->committed_position();
  return j;
}

std::uint64_t BankFingerprint() {
  rill::codecs::SchemaRegistryBuilder b;
  BankDomain::RegisterEvents(b);
  auto reg = std::move(b).Build();
  REQUIRE(reg.ok());
  return reg->fingerprint();
}

}  // namespace

TEST_CASE("replay rebuilds the bank state as of the end, a position and a time", "[replay][tool]") {
  TempDir tmp("rill-replay");
  const Journal j = MakeJournal(tmp.Sub("j"), 0);

  Captured all = Run({.dir = tmp.Sub("j"), .domain = "bank", .stream = "1"});
  INFO(all.err);
  CHECK(all.exit == 0);
  CHECK(all.summary.events == 30);
  CHECK(all.summary.aggregates == 20);
  CHECK(all.summary.kinds == std::vector<std::pair<std::string, std::uint64_t>>{{"Account", 20}});
  REQUIRE(all.summary.summary);
  CHECK(*all.summary.summary ==
        std::vector<std::pair<std::string, std::int64_t>>{{"open", 20}, {"closed", 0}, {"total_balance", 1000}});
  REQUIRE(all.summary.stream);
  CHECK(all.summary.stream->exists);
  CHECK(all.summary.stream->version == 11);  // opened, then 10 deposits
  INFO(all.out);
  CHECK(all.out.find("aggregates   20: Account 20\n") != std::string::npos);
  CHECK(all.out.find("summary      open 20, closed 0, total_balance 1000\n") != std::string::npos);
  // The workload's Describe.
  CHECK(all.out.find("stream       Account 1: version 11, balance 1000, currency 978, owner 100\n") !=
        std::string::npos);

  Captured at_pos = Run({.dir = tmp.Sub("j"), .until = std::to_string(j.after_opens + 3), .stream = "Account:1"});
  CHECK(at_pos.exit == 0);
  CHECK(at_pos.summary.last_position == j.after_opens + 3);
  REQUIRE(at_pos.summary.stream);
  CHECK(at_pos.summary.stream->version == 4);
  CHECK(at_pos.summary.stream->state == "balance 300, currency 978, owner 100");

  Captured at_time = Run({.dir = tmp.Sub("j"), .until = rill::tools::inspect::FormatTime(j.time_after_opens)});
  INFO(at_time.err);
  CHECK(at_time.exit == 0);
  CHECK(at_time.summary.events == 20);
  REQUIRE(at_time.summary.summary);
  CHECK(at_time.summary.summary->back() == std::pair<std::string, std::int64_t>{"total_balance", 0});
  CHECK(at_time.out.find("stream ") == std::string::npos);  // only with --stream
}

TEST_CASE("replay --stream without Describe prints the state's fields, and says when a stream does not exist",
          "[replay][tool]") {
  TempDir tmp("rill-replay");
  MakeJournal(tmp.Sub("j"), 0);
  Captured plain = rill::replay_test::Replay<PlainBankWorkload>({.dir = tmp.Sub("j"), .stream = "1"});
  INFO(plain.err);
  CHECK(plain.exit == 0);
  CHECK(!plain.summary.summary);  // no Summary hook: no summary line, no "summary" member
  CHECK(plain.out.find("summary ") == std::string::npos);
  // Account's fields in order: balance, owner, currency, closed.
  CHECK(plain.out.find("stream       Account 1: version 11, {1000, 100, 978, false}\n") != std::string::npos);

  Captured missing = Run({.dir = tmp.Sub("j"), .stream = "Account:99"});
  CHECK(missing.exit == 0);
  CHECK(missing.out.find("stream       Account 99: does not exist at this point\n") != std::string::npos);
  Captured missing_json = Run({.dir = tmp.Sub("j"), .json = true, .stream = "99"});
  CHECK(JsonObject(missing_json.out, "stream") ==
        "{\"kind\":\"Account\",\"id\":99,\"exists\":false,\"version\":0,\"state\":null}");

  Captured bad = Run({.dir = tmp.Sub("j"), .stream = "Account:"});
  CHECK(bad.exit == 2);
  CHECK(bad.err.find("--stream") != std::string::npos);
  Captured other_kind = Run({.dir = tmp.Sub("j"), .stream = "Order:1"});
  CHECK(other_kind.exit == 2);
  CHECK(other_kind.err.find("use one of Account") != std::string::npos);
}

TEST_CASE("replay --json: the field names, in order", "[replay][tool][json]") {
  TempDir tmp("rill-replay");
  MakeJournal(tmp.Sub("j"), 0);
  Captured json = Run({.dir = tmp.Sub("j"), .domain = "bank", .json = true, .stream = "Account:1"});
  INFO(json.out);
  CHECK(json.exit == 0);
  CHECK(json.err.empty());  // no progress bar when err is not a terminal
  CHECK(json.out.rfind("{\"domain\":\"bank\",\"records\":30,\"events\":30,", 0) == 0);
  CHECK(json.out.back() == '\n');
  CHECK(JsonKeys(json.out) == std::vector<std::string>{"domain", "records", "events", "last_position", "last_time",
                                                       "stopped_inside_batch", "seconds", "events_per_second",
                                                       "aggregates", "state_digest", "digests_checked",
                                                       "digest_mismatch", "kinds", "summary", "stream"});
  CHECK(JsonObject(json.out, "kinds") == "{\"Account\":20}");
  CHECK(JsonObject(json.out, "summary") == "{\"open\":20,\"closed\":0,\"total_balance\":1000}");
  CHECK(JsonObject(json.out, "stream") ==
        "{\"kind\":\"Account\",\"id\":1,\"exists\":true,\"version\":11,\"state\":\"balance 1000, currency 978, "
        "owner 100\"}");
  CHECK(json.out.find("\"digest_mismatch\":null") != std::string::npos);

  // Without hooks or --stream, those members are absent, not empty.
  Captured plain = rill::replay_test::Replay<PlainBankWorkload>({.dir = tmp.Sub("j"), .json = true});
  CHECK(JsonKeys(plain.out).back() == "kinds");
}

TEST_CASE("replay --verify passes on a good journal and names the first tampered digest", "[replay][tool]") {
  TempDir tmp("rill-replay");
  MakeJournal(tmp.Sub("j"), 2);
  Captured good = Run({.dir = tmp.Sub("j"), .verify = true, .json = true});
  INFO(good.err);
  CHECK(good.exit == 0);
  CHECK(good.summary.digests_checked > 0);
  CHECK(good.out.find("\"digest_mismatch\":null") != std::string::npos);

  // A wrong digest record appended by another writer.
  {
    rill::codecs::SchemaRegistryBuilder b;
    BankDomain::RegisterEvents(b);
    auto reg = std::move(b).Build();
    REQUIRE(reg.ok());
    rill::journal::WriterOptions wo;
    wo.directory = tmp.Sub("j");
    wo.segment_size = 1 << 20;
    wo.schema_fingerprint = reg->fingerprint();
    wo.schema_blob = std::as_bytes(reg->blob());
    auto w = rill::journal::JournalWriter::Open(wo);
    REQUIRE(w.ok());
    const rill::engine::DigestRecord rec{42, 0};
    auto span = (*w)->Reserve(sizeof rec, rill::engine::kDigestRecordType);
    REQUIRE(span.ok());
    std::memcpy(span->data(), &rec, sizeof rec);
    REQUIRE((*w)->CommitBatch(1).ok());
  }
  Captured bad = Run({.dir = tmp.Sub("j"), .verify = true});
  CHECK(bad.exit == 1);
  REQUIRE(bad.summary.digest_mismatch);
  const std::string pos = std::to_string(bad.summary.digest_mismatch->position);
  CHECK(bad.err.find("position " + pos) != std::string::npos);
  CHECK(bad.out.find("FIRST MISMATCH at position " + pos) != std::string::npos);
  Captured bad_json = Run({.dir = tmp.Sub("j"), .verify = true, .json = true});
  CHECK(bad_json.exit == 1);
  CHECK(JsonKeys(JsonObject(bad_json.out, "digest_mismatch")) ==
        std::vector<std::string>{"position", "covers_position", "recorded", "computed"});
  // Without --verify it is reported, not a failure.
  CHECK(Run({.dir = tmp.Sub("j")}).exit == 0);
}

TEST_CASE("replay: bad input gives the documented exit codes", "[replay][tool]") {
  TempDir tmp("rill-replay");
  MakeJournal(tmp.Sub("j"), 0);
  CHECK(Run({.dir = tmp.Sub("nowhere")}).exit == 3);
  REQUIRE(::mkdir(tmp.Sub("plain").c_str(), 0755) == 0);
  Captured plain = Run({.dir = tmp.Sub("plain")});
  CHECK(plain.exit == 3);
  CHECK(plain.err.rfind("rill replay: not a journal", 0) == 0);
  CHECK(Run({.dir = tmp.Sub("j"), .until = "yesterday"}).exit == 2);
}

TEST_CASE("replay refuses a journal of another domain, naming its fingerprint and the domain", "[replay][tool]") {
  TempDir tmp("rill-replay");
  MakeJournal(tmp.Sub("j"), 0);
  Captured blog =
      rill::replay_test::Replay<rill::examples::blog::BlogWorkload>({.dir = tmp.Sub("j"), .domain = "blog"});
  CHECK(blog.exit == 3);
  CHECK(blog.out.empty());
  INFO(blog.err);
  char hex[24];
  std::snprintf(hex, sizeof hex, "0x%016" PRIx64, BankFingerprint());
  CHECK(blog.err.find(hex) != std::string::npos);
  CHECK(blog.err.find("'blog' domain") != std::string::npos);
  CHECK(blog.err.find("--domain") != std::string::npos);  // what to do

  // ReadsJournal: how a tool with several domains picks the journal's.
  CHECK(rill::tools::ReadsJournal<BankWorkload>(tmp.Sub("j")));
  CHECK(!rill::tools::ReadsJournal<rill::examples::blog::BlogWorkload>(tmp.Sub("j")));
  CHECK(!rill::tools::ReadsJournal<BankWorkload>(tmp.Sub("nowhere")));
}

#ifdef RILL_BIN
namespace {
int RunBinary(const std::string& args, std::string* out) {
  const std::string cmd = std::string(RILL_BIN) + " " + args + " 2>/dev/null";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
}  // namespace

TEST_CASE("cli: rill replay through the real binary", "[replay][tool][cli]") {
  TempDir tmp("rill-replay");
  const Journal j = MakeJournal(tmp.Sub("j"), 4);
  std::string out;
  CHECK(RunBinary("replay " + tmp.Sub("j") + " --json --verify --stream 1", &out) == 0);
  CHECK(out.find("\"domain\":\"bank\"") != std::string::npos);  // picked by the journal's schema
  CHECK(out.find("\"stream\":{\"kind\":\"Account\",\"id\":1,\"exists\":true,\"version\":11,") != std::string::npos);
  out.clear();
  CHECK(RunBinary("replay " + tmp.Sub("j") + " --until " + std::to_string(j.after_opens), &out) == 0);
  CHECK(out.find("total_balance 0") != std::string::npos);
  out.clear();
  CHECK(RunBinary("replay " + tmp.Sub("nowhere"), &out) == 3);
  CHECK(RunBinary("replay " + tmp.Sub("j") + " --until not-a-time", &out) == 2);
  CHECK(RunBinary("replay " + tmp.Sub("j") + " --domain shop", &out) == 2);
  CHECK(RunBinary("replay " + tmp.Sub("j") + " --domain blog", &out) == 3);
  CHECK(RunBinary("replay " + tmp.Sub("j") + " --stream Order:1", &out) == 2);
  out.clear();
  CHECK(RunBinary("replay --help", &out) == 0);
  CHECK(out.find("rill replay /var/lib/bank/journal") != std::string::npos);
}
#endif
