// info, dump --follow and verify on a journal that another process is writing. The writer
// (a forked child) and the test step through a pipe handshake, so nothing depends on timing:
// the --follow-timeout is only a bound that ends a broken run instead of hanging it.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "inspect_test_util.h"
#include "rill/tools/inspect/inspect_dump.h"
#include "rill/tools/inspect/inspect_info.h"
#include "rill/tools/inspect/inspect_verify.h"
#include "rill/tools/inspect/journal_view.h"

namespace {

using namespace rill::tools::inspect;
using namespace rill::tools::test;

constexpr int kBatches = 100, kPerBatch = 4;  // per half
constexpr std::uint64_t kStreams = 10;

// Event i (0-based) is a deposit on stream i % 10 + 1, version i / 10 + 1, in batch i / 4.
void WriteHalf(EventWriter& w, int half) {
  for (int b = half * kBatches; b < (half + 1) * kBatches; ++b) {
    w.Begin(kT0 + std::int64_t{b} * 10'000'000);
    for (int k = 0; k < kPerBatch; ++k) {
      const std::uint64_t i = static_cast<std::uint64_t>(b * kPerBatch + k);
      w.Deposit(i % kStreams + 1, i / kStreams + 1, static_cast<std::int64_t>(i));
    }
    w.Commit();
  }
}

}  // namespace

TEST_CASE("info, dump --follow and verify read a journal another process is writing",
          "[tools][inspect][live][process]") {
  TempDir tmp;
  int ready[2], go[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(go) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(go[1]);
    char c = 0;
    {
      EventWriter w(tmp.path(), 16 * 1024);  // small segments: the follower crosses rolls
      WriteHalf(w, 0);
      if (::write(ready[1], "1", 1) != 1) ::_exit(2);
      if (::read(go[0], &c, 1) != 1) ::_exit(3);  // the test has read the first half
      WriteHalf(w, 1);
      if (::read(go[0], &c, 1) != 0) ::_exit(4);  // stay alive until the test is done
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(go[0]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);

  // The writer holds its lock and is idle mid-journal: info sees the first half.
  const Output info = Capture([&](std::FILE* out, std::FILE* err) { return RunInfo({tmp.path(), {}}, out, err); });
  INFO(info.err);
  CHECK(info.exit == kExitOk);
  CHECK(info.out.find("events       400 in 100 batches, positions 1-400") != std::string::npos);
  CHECK(info.out.find("tail         committed 400, durable 400") != std::string::npos);

  // Follow from the start while the writer appends the second half.
  REQUIRE(::write(go[1], "2", 1) == 1);
  DumpOptions o;
  o.dir = tmp.path();
  o.json = true;
  o.follow = true;
  o.limit = 2 * kBatches * kPerBatch;
  o.follow_timeout_s = 60;  // a bound for a broken run only
  const Output dump = Capture([&](std::FILE* out, std::FILE* err) { return RunDump(o, out, err); });
  INFO(dump.err);
  CHECK(dump.exit == kExitOk);
  const std::vector<std::string> lines = Lines(dump.out);
  REQUIRE(lines.size() == o.limit);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    Json e;
    REQUIRE(JsonReader::Parse(lines[i], &e));
    REQUIRE(e["position"].text == std::to_string(i + 1));
    REQUIRE(e["stream_id"].text == std::to_string(i % kStreams + 1));
    REQUIRE(e["body"]["amount"].text == std::to_string(i));
  }

  const Output verify = Capture([&](std::FILE* out, std::FILE* err) { return RunVerify({tmp.path()}, out, err); });
  INFO(verify.out);
  CHECK(verify.exit == kExitOk);

  ::close(go[1]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  ::close(ready[0]);
}

TEST_CASE("dump --follow stops after --follow-timeout when no writer commits", "[tools][inspect][live]") {
  TempDir tmp;
  WriteSmallJournal(tmp.path());
  DumpOptions o;
  o.dir = tmp.path();
  o.follow = true;
  o.follow_timeout_s = 0.2;
  const Output d = Capture([&](std::FILE* out, std::FILE* err) { return RunDump(o, out, err); });
  CHECK(d.exit == kExitOk);
  CHECK(Lines(d.out).size() == 8);
}
