// `rill replay`: RunReplay in process (state as of the end, a position, a time; --verify;
// --json), and the real binary for exit codes on bad input.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "recovery_test_util.h"
#include "rill/journal/journal_reader.h"
#include "rill/tools/inspect/journal_view.h"
#include "rill/tools/replay/replay_command.h"

namespace {

using namespace rill::recovery_test;

struct Captured {
  int exit = 0;
  std::string out, err;
  rill::tools::ReplaySummary summary;
};

Captured Run(const rill::tools::ReplayOptions& o) {
  Captured c;
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  c.exit = rill::tools::RunReplay(o, out, err, &c.summary);
  for (auto [f, s] : {std::pair{out, &c.out}, std::pair{err, &c.err}}) {
    std::rewind(f);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s->append(buf, n);
    std::fclose(f);
  }
  return c;
}

// A bank journal: 20 accounts, deposits of 100 each into account 1 in separate batches.
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

}  // namespace

TEST_CASE("replay rebuilds the bank state as of the end, a position and a time", "[replay][tool]") {
  TempDir tmp("rill-replay");
  const Journal j = MakeJournal(tmp.Sub("j"), 0);

  Captured all = Run({.dir = tmp.Sub("j"), .account = 1});
  INFO(all.err);
  CHECK(all.exit == 0);
  CHECK(all.summary.events == 30);
  CHECK(all.summary.aggregates == 20);
  CHECK(all.summary.total_balance == 1000);
  CHECK(all.summary.account_balance == 1000);
  CHECK(all.out.find("total money  1000") != std::string::npos);
  CHECK(all.out.find("account      1: balance 1000") != std::string::npos);

  Captured at_pos = Run({.dir = tmp.Sub("j"), .until = std::to_string(j.after_opens + 3), .account = 1});
  CHECK(at_pos.exit == 0);
  CHECK(at_pos.summary.last_position == j.after_opens + 3);
  CHECK(at_pos.summary.account_balance == 300);

  Captured at_time = Run({.dir = tmp.Sub("j"), .until = rill::tools::inspect::FormatTime(j.time_after_opens)});
  INFO(at_time.err);
  CHECK(at_time.exit == 0);
  CHECK(at_time.summary.events == 20);
  CHECK(at_time.summary.total_balance == 0);

  Captured json = Run({.dir = tmp.Sub("j"), .json = true});
  CHECK(json.exit == 0);
  CHECK(json.out.rfind("{\"domain\":\"bank\",\"records\":30,\"events\":30,", 0) == 0);
  CHECK(json.out.find("\"total_balance\":1000") != std::string::npos);
  CHECK(json.out.find("\"events_per_second\":") != std::string::npos);
  CHECK(json.err.empty());  // no progress bar when err is not a terminal
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
  Captured blog = Run({.dir = tmp.Sub("j"), .domain = "blog"});
  CHECK(blog.exit == 3);
  CHECK(blog.err.find("--domain") != std::string::npos);
  CHECK(Run({.dir = tmp.Sub("j"), .until = "yesterday"}).exit == 2);
  CHECK(Run({.dir = tmp.Sub("j"), .domain = "shop"}).exit == 2);
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
  CHECK(RunBinary("replay " + tmp.Sub("j") + " --json --verify --account 1", &out) == 0);
  CHECK(out.find("\"account\":{\"id\":1,\"balance\":1000") != std::string::npos);
  out.clear();
  CHECK(RunBinary("replay " + tmp.Sub("j") + " --until " + std::to_string(j.after_opens), &out) == 0);
  CHECK(out.find("total money  0") != std::string::npos);
  out.clear();
  CHECK(RunBinary("replay " + tmp.Sub("nowhere"), &out) == 3);
  CHECK(RunBinary("replay " + tmp.Sub("j") + " --until not-a-time", &out) == 2);
  CHECK(RunBinary("replay " + tmp.Sub("j") + " --domain shop", &out) == 2);
  CHECK(RunBinary("replay --help", &out) == 0);
  CHECK(out.find("rill replay /var/lib/bank/journal") != std::string::npos);
}
#endif
