// The real `rill`, `rill-bank-service` and `rill-load` binaries: every bad flag is a usage error
// (exit 2) with one line on stderr that names the flag or word and says what to give. Negatives
// into unsigned options, zero where zero means nothing, out-of-range and overflowing numbers,
// empty filters, unknown flags and subcommands, --from/--to ranges that cannot meet the journal,
// and times that do not exist on the calendar.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "inspect_test_util.h"
#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"

namespace {

using namespace rill::tools::test;

// What the golden journal (WriteSmallJournal) holds, as range errors print it.
const std::string kHoldings = "the journal holds positions 1-8, 2026-11-23T01:02:03Z .. 2026-11-23T01:02:06.500Z";

// A usage error: exit 2, nothing on stdout, one line on stderr holding every `needles`, and no
// double's maximum printed out in full (CLI::NonNegativeNumber's 309 digits).
void CheckUsage(const Output& o, const std::string& args, std::initializer_list<std::string> needles) {
  INFO("rill " << args << "\nstderr: " << o.err << "stdout: " << o.out);
  CHECK(o.exit == 2);
  CHECK(o.out.empty());
  CHECK(Lines(o.err).size() == 1);
  CHECK(o.err.find("179769313") == std::string::npos);
  for (const std::string& n : needles) CHECK(o.err.find(n) != std::string::npos);
}

Output Usage(const TempDir& tmp, const std::string& args, std::initializer_list<std::string> needles) {
  Output o = RunRill(tmp, args);
  CheckUsage(o, args, needles);
  return o;
}

// A bank journal written by the engine (the replay tests need the bank domain's schema): 3
// accounts opened, then a deposit.
void WriteBankJournal(const std::string& dir) {
  using namespace rill::examples::bank;
  rill::engine::EngineOptions o;
  o.journal.directory = dir;
  o.ring_size = 64;
  o.log_to_stderr = false;
  auto e = rill::engine::Engine<BankDomain>::Open(o);
  REQUIRE(e.ok());
  for (std::uint64_t a = 1; a <= 3; ++a)
    REQUIRE((*e)->execute(OpenAccount{.account = a, .owner = a, .currency = 978}, {.command_id = a}).accepted());
  REQUIRE((*e)->execute(Deposit{.account = 1, .amount = 5}, {.command_id = 4}).accepted());
}

}  // namespace

TEST_CASE("cli flags: unsigned flags refuse negative numbers instead of wrapping to 2^64-1", "[tools][cli][flags]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  const std::string j = " " + tmp.Sub("j");
  // Each would run (with a wrapped value) before: --limit and --stream dump nothing or all.
  Usage(tmp, "inspect dump" + j + " --limit -1", {"--limit", "'-1' is negative", "1 or more"});
  Usage(tmp, "inspect dump" + j + " --stream -1", {"--stream", "negative"});
  Usage(tmp, "inspect stats" + j + " --top -1", {"--top", "negative"});
  Usage(tmp, "replay" + j + " --stream -1", {"--stream", "negative"});
  // Short runs if the flag were (wrongly) accepted.
  Usage(tmp, "crashtest --kills 1 --min-ms 0 --max-ms 20 --seed -1 --dir " + tmp.Sub("ct"), {"--seed", "negative"});
  Usage(tmp, "crashtest --segment-kib -1", {"--segment-kib", "negative"});
  const std::string bench = "bench --accounts 200 --inflight 8 --ring-size 64 --commands 50 --dir " + tmp.Sub("b");
  Usage(tmp, bench + " --seed -1", {"--seed", "negative"});
  // A wrapped --commands would run 2^64-1 commands: --dir (not empty) stops the old binary early.
  Usage(tmp, "bench --commands -1 --dir " + tmp.path(), {"--commands", "negative"});
  Usage(tmp, "bench --ring-size -1", {"--ring-size", "negative"});
  Usage(tmp, "bench --max-batch -1", {"--max-batch", "negative"});
  Usage(tmp, "demo --aggregates -1", {"--aggregates", "negative"});
  Usage(tmp, "demo --accounts -1", {"--aggregates", "negative"});  // the old name, an alias
}

TEST_CASE("cli flags: numbers are decimal, in range, and overflow is an error", "[tools][cli][flags]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  const std::string j = " " + tmp.Sub("j");
  // strtoull saturated at 2^64-1 before, silently.
  Usage(tmp, "inspect dump" + j + " --limit 99999999999999999999999", {"--limit", "out of range"});
  Usage(tmp, "inspect dump" + j + " --limit 0x10", {"--limit", "not a whole number"});
  Usage(tmp, "inspect dump" + j + " --limit 2.5", {"--limit", "not a whole number"});
  Usage(tmp, "crashtest --producers 65", {"--producers", "from 1 to 64"});
  Usage(tmp, "crashtest --rate -1", {"--rate", "negative"});
  Usage(tmp, "demo --producers 0", {"--producers", "from 1 to 64"});
  // Leading zeros are decimal, not octal: 01000 is the blog post 1000 (3 events), not 512; 08 is
  // 8, not an octal error.
  const Output post = RunRill(tmp, "inspect dump" + j + " --stream 01000");
  CHECK(post.exit == 0);
  CHECK(Lines(post.out).size() == 3);
  const Output eight = RunRill(tmp, "inspect dump" + j + " --limit 08");
  CHECK(eight.exit == 0);
  CHECK(Lines(eight.out).size() == 8);
}

TEST_CASE("cli flags: zero is refused where it means nothing", "[tools][cli][flags]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  const std::string j = " " + tmp.Sub("j");
  Usage(tmp, "inspect dump" + j + " --limit 0", {"--limit", "omit --limit for no limit"});
  // --limit 1 ends the old binary's endless follow (a timeout of 0 was "none").
  Usage(tmp, "inspect dump" + j + " --limit 1 --follow --follow-timeout 0", {"--follow-timeout"});
  Usage(tmp, "bench --seconds 0.1 --commands 0", {"--commands", "omit --commands"});
  Usage(tmp, "crashtest --kills 1 --min-ms 0 --max-ms 20 --seed 0 --dir " + tmp.Sub("ct"),
        {"--seed", "omit --seed for a random one"});
  Usage(tmp, "inspect dump" + j + " --from 0", {"--from", "positions start at 1"});
  Usage(tmp, "demo --seconds 0", {"--seconds", "from 0.1 to 3600"});
}

TEST_CASE("cli flags: real-number flags print readable bounds and refuse nan and inf", "[tools][cli][flags]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  const std::string j = " " + tmp.Sub("j");
  // CLI::NonNegativeNumber printed "not in range 0.000000 to 1797693134862315708145274237317...".
  Usage(tmp, "inspect dump" + j + " --follow --follow-timeout -1", {"--follow-timeout", "from 0.001 to 31536000"});
  Usage(tmp, "inspect dump" + j + " --limit 1 --follow --follow-timeout nan", {"--follow-timeout", "not a number"});
  Usage(tmp, "bench --rate -5", {"--rate", "from 1 to 1000000000"});
  Usage(tmp, "bench --rate inf", {"--rate", "not a number"});
  Usage(tmp, "bench --seconds 0", {"--seconds", "from 0.01 to 3600"});
  // A timeout without --follow would be silently ignored.
  Usage(tmp, "inspect dump" + j + " --follow-timeout 5", {"--follow-timeout", "--follow"});
}

TEST_CASE("cli flags: an empty filter or path is an error, not 'no filter'", "[tools][cli][flags]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  const std::string j = " " + tmp.Sub("j");
  Usage(tmp, "inspect dump" + j + " --type ''", {"--type", "an empty value", "bank.Deposited"});
  Usage(tmp, "inspect dump" + j + " --from ''", {"--from", "an empty value"});
  Usage(tmp, "inspect dump" + j + " --to ''", {"--to", "an empty value"});
  Usage(tmp, "inspect info" + j + " --checkpoints ''", {"--checkpoints", "an empty value"});
  Usage(tmp, "replay" + j + " --until ''", {"--until", "an empty value"});
  Usage(tmp, "inspect dump ''", {"DIR", "an empty value"});
  Usage(tmp, "bench --commands 10 --dir ''", {"--dir", "an empty value"});
  Usage(tmp, "crashtest --kills 1 --min-ms 0 --max-ms 20 --dir ''", {"--dir", "an empty value"});
}

TEST_CASE("cli flags: a range that cannot meet the journal says what the journal holds", "[tools][cli][flags]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  const std::string j = " " + tmp.Sub("j");
  // Exit 0 with no output before.
  Usage(tmp, "inspect dump" + j + " --from 100 --to 10",
        {"rill inspect: empty range: --from position 100 is after --to position 10", kHoldings});
  Usage(tmp, "inspect dump" + j + " --from 2099-01-01",
        {"--from 2099-01-01T00:00:00Z is after the journal's last event", kHoldings, tmp.Sub("j")});
  Usage(tmp, "inspect dump" + j + " --from 9", {"--from position 9 is after the journal's last event", kHoldings});
  Usage(tmp, "inspect dump" + j + " --from 100", {"--from position 100 is after the journal's last event", kHoldings});
  Usage(tmp, "inspect dump" + j + " --to 2020-01-01T00:00:00Z",
        {"--to 2020-01-01T00:00:00Z is before the journal's first event", kHoldings});
  Usage(tmp, "inspect dump" + j + " --from 2026-11-23T01:02:06Z --to 2026-11-23T01:02:05Z", {"empty range", kHoldings});
  // Mixed kinds: position 3 is at 01:02:04, after --to.
  Usage(tmp, "inspect dump" + j + " --from 3 --to 2026-11-23T01:02:03.5Z",
        {"empty range: the first event from --from position 3 (position 3, 2026-11-23T01:02:04Z) is after --to "
         "2026-11-23T01:02:03.500Z",
         kHoldings});

  // A range that meets the journal clamps at its ends.
  const Output early = RunRill(tmp, "inspect dump" + j + " --from 2026-01-01 --to 3");
  CHECK(early.exit == 0);
  CHECK(Lines(early.out).size() == 3);
  const Output late = RunRill(tmp, "inspect dump" + j + " --from 7 --to 1000000");
  CHECK(late.exit == 0);
  CHECK(Lines(late.out).size() == 2);
  const Output one = RunRill(tmp, "inspect dump" + j + " --from 8 --to 8");
  CHECK(one.exit == 0);
  CHECK(Lines(one.out).size() == 1);
  // Following, a --from after the end waits for it (here: until the idle timeout).
  const Output follow = RunRill(tmp, "inspect dump" + j + " --follow --follow-timeout 0.2 --from 2099-01-01");
  CHECK(follow.exit == 0);
  CHECK(follow.out.empty());
  CHECK(follow.err.empty());
}

TEST_CASE("cli flags: a range on a journal without events says it is empty", "[tools][cli][flags]") {
  TempDir tmp;
  { EventWriter w(tmp.Sub("j")); }  // a segment, no batch
  Usage(tmp, "inspect dump " + tmp.Sub("j") + " --to 5", {"the journal holds no events yet", "--follow"});
  Usage(tmp, "inspect dump " + tmp.Sub("j") + " --from 2026-01-01", {"the journal holds no events yet"});
  const Output plain = RunRill(tmp, "inspect dump " + tmp.Sub("j"));
  CHECK(plain.exit == 0);
  CHECK(plain.out.empty());
}

TEST_CASE("cli flags: times must exist on the calendar, offsets must be real", "[tools][cli][flags]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  const std::string j = " " + tmp.Sub("j");
  Usage(tmp, "inspect dump" + j + " --from 2026-02-30T00:00:00Z",
        {"--from", "day 30 does not exist in February 2026 (01-28)"});
  Usage(tmp, "inspect dump" + j + " --from 2026-11-23T01:02:03+99:00", {"--from", "UTC offset +99:00 is out of range"});
  Usage(tmp, "inspect dump" + j + " --to 2026-11-23T24:00:00Z", {"--to", "hour 24"});
  Usage(tmp, "replay" + j + " --until 2026-11-23T01:02:60Z", {"--until", "second 60"});
  Usage(tmp, "replay" + j + " --until -5", {"--until", "negative"});
}

TEST_CASE("cli flags: replay --until before the journal's first event is an error", "[tools][cli][flags]") {
  TempDir tmp;
  WriteBankJournal(tmp.Sub("bank"));
  const std::string j = " " + tmp.Sub("bank");
  Usage(tmp, "replay" + j + " --until 2020-01-01",
        {"--until 2020-01-01T00:00:00Z is before the journal's first event", "the journal holds positions 1-"});
  const Output end = RunRill(tmp, "replay" + j + " --until 1000000 --stream 1");  // clamps at the end
  INFO(end.err);
  CHECK(end.exit == 0);
  CHECK(end.out.find("stream       Account 1: version 2, balance 5,") != std::string::npos);
  const Output two = RunRill(tmp, "replay" + j + " --until 2");
  CHECK(two.exit == 0);
  CHECK(two.out.find("aggregates   2: Account 2\n") != std::string::npos);
}

TEST_CASE("cli flags: an unknown subcommand, flag or argument is named", "[tools][cli][flags]") {
  TempDir tmp;
  WriteSmallJournal(tmp.Sub("j"));
  const std::string j = " " + tmp.Sub("j");
  // "A subcommand is required" before, without the word.
  Usage(tmp, "nosuchcmd",
        {"rill: unknown subcommand 'nosuchcmd'", "version", "inspect", "demo", "bench", "crashtest", "replay"});
  Usage(tmp, "inspect xyz" + j, {"rill inspect: unknown subcommand 'xyz'", "info, dump, verify, stats"});
  Usage(tmp, "", {"rill: a subcommand is required", "inspect"});
  Usage(tmp, "inspect", {"rill inspect: a subcommand is required", "info, dump, verify, stats"});
  Usage(tmp, "inspect dump" + j + " --bogus", {"rill inspect dump: unknown option '--bogus'", "--help"});
  Usage(tmp, "inspect dump" + j + " " + tmp.Sub("other"), {"unexpected argument", tmp.Sub("other")});
  Usage(tmp, "version extra", {"rill version: unexpected argument 'extra'"});
  Usage(tmp, "crashtest --bogus", {"rill crashtest: unknown option '--bogus'"});
  Usage(tmp, "inspect dump", {"DIR is required", "rill inspect dump --help"});
  Usage(tmp, "inspect dump" + j + " --limit", {"--limit"});
  Usage(tmp, "crashtest --durability fast", {"--durability", "fast"});
  // --help still works everywhere and exits 0.
  const Output help = RunRill(tmp, "inspect dump --help");
  CHECK(help.exit == 0);
  CHECK(help.out.find("--limit") != std::string::npos);
}

TEST_CASE("cli flags: --dir naming a file says it is not a directory", "[tools][cli][flags]") {
  TempDir tmp;
  std::ofstream(tmp.Sub("file")) << "x\n";
  std::ofstream(tmp.Sub("empty-file")).flush();
  for (const char* cmd : {"bench --commands 10", "demo --seconds 0.1", "crashtest --kills 1"}) {
    for (const char* file : {"file", "empty-file"}) {
      const Output o = RunRill(tmp, std::string(cmd) + " --dir " + tmp.Sub(file));
      INFO(cmd << " " << file << ": " << o.err);
      CHECK(o.exit == 3);
      CHECK(Lines(o.err).size() == 1);
      CHECK(o.err.find(tmp.Sub(file) + " is not a directory") != std::string::npos);
    }
  }
}

#if defined(RILL_BANK_SERVICE_BIN) && defined(RILL_LOAD_BIN)
TEST_CASE("cli flags: rill-load and rill-bank-service refuse bad flags with one line",
          "[tools][cli][flags][examples]") {
  TempDir tmp;
  const auto usage = [&](const char* bin, const std::string& args, std::initializer_list<std::string> needles) {
    const Output o = RunBinary(tmp, bin, args);
    CheckUsage(o, args, needles);
  };
  usage(RILL_LOAD_BIN, "--port -1", {"rill-load: --port '-1' is negative", "from 1 to 65535"});
  usage(RILL_LOAD_BIN, "--port 7 --commands 0", {"--commands '0' is out of range"});
  usage(RILL_LOAD_BIN, "--port 7 --seed 99999999999999999999999", {"--seed", "out of range"});
  usage(RILL_LOAD_BIN, "--port 7 --connections 1.5", {"--connections '1.5' is not a whole number"});
  usage(RILL_LOAD_BIN, "--port 7 --ack sometimes", {"--ack 'sometimes'", "journaled, accepted, durable, applied"});
  usage(RILL_LOAD_BIN, "--port 7 --port 8", {"--port is given twice"});
  usage(RILL_LOAD_BIN, "--port 7 --bogus", {"unknown flag '--bogus'"});
  usage(RILL_LOAD_BIN, "--port --commands 5", {"--port needs a value"});
  usage(RILL_LOAD_BIN, "--port 7 --host ''", {"--host has an empty value"});
  usage(RILL_LOAD_BIN, "", {"--port is required"});
  const std::string data = " --data " + tmp.Sub("svc");
  usage(RILL_BANK_SERVICE_BIN, "", {"rill-bank-service: --data is required"});
  usage(RILL_BANK_SERVICE_BIN, data + " --port -1", {"--port '-1' is negative"});
  usage(RILL_BANK_SERVICE_BIN, data + " --io-threads 0", {"--io-threads '0' is out of range", "from 1 to 256"});
  usage(RILL_BANK_SERVICE_BIN, data + " --durability sometimes", {"--durability 'sometimes'"});
  usage(RILL_BANK_SERVICE_BIN, data + " --salvage yes", {"unexpected argument 'yes'"});
  usage(RILL_BANK_SERVICE_BIN, data + " extra", {"unexpected argument 'extra'"});
}

TEST_CASE("cli flags: rill-bank-service --salvage is documented and accepted", "[tools][cli][flags][examples]") {
  TempDir tmp;
  const Output help = RunBinary(tmp, RILL_BANK_SERVICE_BIN, "--help");
  CHECK(help.exit == 0);
  CHECK(help.out.find("--salvage") != std::string::npos);
  CHECK(help.out.find("move the damaged part aside") != std::string::npos);
  CHECK(help.out.find("never deleted") != std::string::npos);
  CHECK(help.out.find("acknowledged events could not be kept") != std::string::npos);

  // It starts with the flag (on a fresh directory there is nothing to salvage) and stops on SIGINT.
  int out[2];
  REQUIRE(::pipe(out) == 0);
  const std::string data = tmp.Sub("svc");
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    ::execl(RILL_BANK_SERVICE_BIN, "rill-bank-service", "--data", data.c_str(), "--port", "0", "--salvage",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[512];
  while (text.find('\n') == std::string::npos) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  INFO(text);
  CHECK(text.rfind("rill-bank-service listening on 127.0.0.1:", 0) == 0);
  REQUIRE(::kill(child, SIGINT) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  ::close(out[0]);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
#endif
