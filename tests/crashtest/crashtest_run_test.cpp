// Short real crash tests: the parent in-process (RunCrashtest) or the real `rill` binary; the
// children are always the real binary, killed with SIGKILL. Whatever moment a kill lands on,
// a run must pass: the tests never depend on timing, only on the outcome being verified.
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "crashtest_test_util.h"
#include "rill/tools/crashtest/crashtest_command.h"

namespace {

using namespace rill::tools::crashtest;
using rill::test::TempDir;

struct Output {
  int exit = -1;
  std::string out, err;
};

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The real binary, with stdout and stderr captured in files.
Output RunRill(const TempDir& tmp, const std::string& args) {
  const std::string cmd = std::string(RILL_BIN) + " " + args + " > " + tmp.Sub("stdout") + " 2> " + tmp.Sub("stderr");
  const int status = std::system(cmd.c_str());
  Output o;
  o.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = Slurp(tmp.Sub("stdout"));
  o.err = Slurp(tmp.Sub("stderr"));
  return o;
}

// In-process parent, output captured.
Output RunInProcess(const CrashtestOptions& o) {
  Output r;
  char *out_buf = nullptr, *err_buf = nullptr;
  std::size_t out_len = 0, err_len = 0;
  std::FILE* out = ::open_memstream(&out_buf, &out_len);
  std::FILE* err = ::open_memstream(&err_buf, &err_len);
  r.exit = RunCrashtest(o, out, err);
  std::fclose(out);
  std::fclose(err);
  r.out.assign(out_buf, out_len);
  r.err.assign(err_buf, err_len);
  std::free(out_buf);
  std::free(err_buf);
  return r;
}

std::uint64_t Seed() {
  const char* env = std::getenv("RILL_TEST_SEED");
  const std::uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : 1 + std::random_device{}() % 1'000'000;
  std::printf("crashtest run tests: seed %llu (rerun with RILL_TEST_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  return seed;
}

}  // namespace

TEST_CASE("run: a few kills pass under each durability policy", "[crashtest][run]") {
  const std::uint64_t seed = Seed();
  for (const char* durability : {"none", "batch", "interval"}) {
    TempDir tmp("rill-crashtest");
    CrashtestOptions o;
    o.kills = 3;
    o.seed = seed;
    o.durability = durability;
    o.dir = tmp.Sub("run");
    o.min_ms = 20;
    o.max_ms = 80;
    o.producers = 2;
    o.child_exe = RILL_BIN;
    const Output r = RunInProcess(o);
    INFO(durability << "\n" << r.out << r.err);
    CHECK(r.exit == 0);
    CHECK_THAT(r.out, Catch::Contains("seed " + std::to_string(seed)));
    CHECK_THAT(r.out, Catch::Contains("result: ok"));
    CHECK_THAT(r.out, Catch::Contains("round  3:"));
  }
}

TEST_CASE("run: the binary prints one JSON object with --json", "[crashtest][run][cli]") {
  TempDir tmp("rill-crashtest");
  const Output o = RunRill(tmp, "crashtest --kills 2 --durability batch --max-ms 60 --json --seed " +
                                    std::to_string(Seed()) + " --dir " + tmp.Sub("run"));
  INFO(o.out << o.err);
  CHECK(o.exit == 0);
  CHECK(o.out.rfind("{\"seed\":", 0) == 0);
  CHECK_THAT(o.out, Catch::Contains("\"result\":\"ok\""));
  CHECK_THAT(o.out, Catch::Contains("\"power_loss\":") || Catch::Contains("\"durable\":0"));
  CHECK_THAT(o.err, Catch::Contains("seed "));  // the seed goes out first, also under --json
}

TEST_CASE("run: an injected acknowledgement that no journal holds fails with exit 1", "[crashtest][run][cli]") {
  TempDir tmp("rill-crashtest");
  const Output o =
      RunRill(tmp, "crashtest --kills 3 --durability none --max-ms 60 --inject fake-ack --dir " + tmp.Sub("run"));
  INFO(o.out << o.err);
  CHECK(o.exit == 1);
  CHECK_THAT(o.out, Catch::Contains("VIOLATION in round 1"));
  CHECK_THAT(o.out, Catch::Contains("is missing from the recovered journal"));
  CHECK_THAT(o.out, Catch::Contains("replay: rill crashtest --seed "));
}

TEST_CASE("run: an injected lost acknowledgement fails with exit 1", "[crashtest][run][cli]") {
  TempDir tmp("rill-crashtest");
  const Output o =
      RunRill(tmp, "crashtest --kills 4 --durability batch --max-ms 60 --inject lose-ack --dir " + tmp.Sub("run"));
  INFO(o.out << o.err);
  CHECK(o.exit == 1);
  CHECK_THAT(o.out, Catch::Contains("acknowledged as rejected"));
}

TEST_CASE("run: bad flags exit 2", "[crashtest][run][cli]") {
  TempDir tmp("rill-crashtest");
  for (const char* args :
       {"crashtest --kills 0", "crashtest --durability fast", "crashtest --bogus", "crashtest --min-ms 100 --max-ms 50",
        "crashtest --segment-kib 5", "crashtest --inject everything", "crashtest --kills"}) {
    const Output o = RunRill(tmp, args);
    INFO(args << "\n" << o.err);
    CHECK(o.exit == 2);
    CHECK(!o.err.empty());
  }
}

TEST_CASE("run: a directory that already holds a journal exits 2", "[crashtest][run][cli]") {
  TempDir tmp("rill-crashtest");
  REQUIRE(::mkdir(tmp.Sub("run").c_str(), 0755) == 0);
  { auto e = rill::tools::crashtest::test::OpenEngine(tmp.Sub("run/journal"), rill::journal::Durability::kNone); }
  const Output o = RunRill(tmp, "crashtest --kills 1 --dir " + tmp.Sub("run"));
  CHECK(o.exit == 2);
  CHECK_THAT(o.err, Catch::Contains("already holds a journal"));
}
