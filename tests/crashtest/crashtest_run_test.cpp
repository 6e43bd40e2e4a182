// Short real crash tests: the parent in-process (RunCrashtest<W>) or the test-only binary
// crashtest_tool; the children are always crashtest_tool, killed with SIGKILL. Whatever moment
// a kill lands on, a run must pass (or, with a bug injected, fail): the tests never depend on
// timing, only on the outcome being verified.
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
#include "rill/tools/crashtest/crashtest.h"
#include "test_workloads.h"

namespace {

using namespace rill::tools::crashtest;
using rill::test::TempDir;
namespace t = rill::tools::crashtest::test;

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

// The test binary as a whole, with stdout and stderr captured in files.
Output RunTool(const TempDir& tmp, const std::string& args) {
  const std::string cmd =
      std::string(CRASHTEST_TOOL) + " " + args + " > " + tmp.Sub("stdout") + " 2> " + tmp.Sub("stderr");
  const int status = std::system(cmd.c_str());
  Output o;
  o.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = Slurp(tmp.Sub("stdout"));
  o.err = Slurp(tmp.Sub("stderr"));
  return o;
}

// In-process parent of workload W, output captured; the children are crashtest_tool.
template <typename W>
Output RunInProcess(CrashtestOptions o) {
  o.child_exe = CRASHTEST_TOOL;
  Output r;
  char *out_buf = nullptr, *err_buf = nullptr;
  std::size_t out_len = 0, err_len = 0;
  std::FILE* out = ::open_memstream(&out_buf, &out_len);
  std::FILE* err = ::open_memstream(&err_buf, &err_len);
  r.exit = RunCrashtest<W>(o, out, err);
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

CrashtestOptions Short(const TempDir& tmp, const std::string& domain, std::uint64_t seed) {
  CrashtestOptions o;
  o.kills = 3;
  o.seed = seed;
  o.dir = tmp.Sub("run");
  o.min_ms = 20;
  o.max_ms = 80;
  o.producers = 2;
  o.domain = domain;
  return o;
}

}  // namespace

TEST_CASE("run: a few kills pass under each durability policy", "[crashtest][run]") {
  const std::uint64_t seed = Seed();
  for (const char* durability : {"none", "batch", "interval"}) {
    TempDir tmp("rill-crashtest");
    CrashtestOptions o = Short(tmp, "bank", seed);
    o.durability = durability;
    const Output r = RunInProcess<rill::examples::bank::BankWorkload>(o);
    INFO(durability << "\n" << r.out << r.err);
    CHECK(r.exit == 0);
    CHECK_THAT(r.out, Catch::Contains("domain bank, seed " + std::to_string(seed)));
    CHECK_THAT(r.out, Catch::Contains("result: ok"));
    CHECK_THAT(r.out, Catch::Contains("round  3:"));
  }
}

TEST_CASE("run: a domain with two kinds whose aggregates end passes", "[crashtest][run][kinds]") {
  const std::uint64_t seed = Seed();
  TempDir tmp("rill-crashtest");
  CrashtestOptions o = Short(tmp, "shop", seed);
  o.aggregates = 8;
  const Output r = RunInProcess<t::ShopWorkload>(o);
  INFO(r.out << r.err);
  CHECK(r.exit == 0);
  CHECK_THAT(r.out, Catch::Contains("result: ok"));
}

TEST_CASE("run: a broken invariant hook ends in exit 1 with the violation named", "[crashtest][run]") {
  const std::uint64_t seed = Seed();
  TempDir tmp("rill-crashtest");
  CrashtestOptions o = Short(tmp, "bank-broken-invariant", seed);
  o.kills = 4;
  const Output r = RunInProcess<t::BrokenInvariantWorkload>(o);
  INFO(r.out << r.err);
  CHECK(r.exit == 1);
  CHECK_THAT(r.out, Catch::Contains("VIOLATION in round"));
  CHECK_THAT(r.out, Catch::Contains("the workload's invariant does not hold after recovery"));
  CHECK_THAT(r.out, Catch::Contains("past the test's limit of 3"));
  CHECK_THAT(r.out, Catch::Contains("replay: rill crashtest --domain bank-broken-invariant --seed "));
}

TEST_CASE("run: the children's read model resumes from its checkpoints across kills", "[crashtest][run][read_model]") {
  TempDir tmp("rill-crashtest");
  CrashtestOptions o = Short(tmp, "bank", Seed());
  o.kills = 4;
  // Long enough for the child's read model to checkpoint (every 2000 events) in some round,
  // also on a loaded 2-core machine (200-300 ms failed once there with no checkpoint at all).
  o.min_ms = 500;
  o.max_ms = 700;
  o.json = true;
  const Output r = RunInProcess<rill::examples::bank::BankWorkload>(o);
  INFO(r.out << r.err);
  REQUIRE(r.exit == 0);
  // Some round's check resumed from a checkpoint: "read_model_checkpoint" is not 0 everywhere.
  const std::size_t zeros = [&] {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = r.out.find("\"read_model_checkpoint\":0,", at)) != std::string::npos; ++at) ++n;
    return n;
  }();
  CHECK(zeros < 4);
}

TEST_CASE("run: the binary prints one JSON object with --json", "[crashtest][run][cli]") {
  TempDir tmp("rill-crashtest");
  const Output o = RunTool(tmp, "crashtest --kills 2 --durability batch --max-ms 60 --json --seed " +
                                    std::to_string(Seed()) + " --dir " + tmp.Sub("run"));
  INFO(o.out << o.err);
  CHECK(o.exit == 0);
  CHECK(o.out.rfind("{\"seed\":", 0) == 0);
  CHECK_THAT(o.out, Catch::Contains("\"domain\":\"bank\""));
  CHECK_THAT(o.out, Catch::Contains("\"result\":\"ok\""));
  CHECK_THAT(o.out, Catch::Contains("\"power_loss\":") || Catch::Contains("\"durable\":0"));
  CHECK_THAT(o.err, Catch::Contains("seed "));  // the seed goes out first, also under --json
}

TEST_CASE("run: an injected acknowledgement that no journal holds fails with exit 1", "[crashtest][run][cli]") {
  TempDir tmp("rill-crashtest");
  const Output o =
      RunTool(tmp, "crashtest --kills 3 --durability none --max-ms 60 --inject fake-ack --dir " + tmp.Sub("run"));
  INFO(o.out << o.err);
  CHECK(o.exit == 1);
  CHECK_THAT(o.out, Catch::Contains("VIOLATION in round 1"));
  CHECK_THAT(o.out, Catch::Contains("is missing from the recovered journal"));
  CHECK_THAT(o.out, Catch::Contains("replay: crashtest_tool crashtest --domain bank --seed "));
}

TEST_CASE("run: an injected lost acknowledgement fails with exit 1", "[crashtest][run][cli]") {
  TempDir tmp("rill-crashtest");
  const Output o =
      RunTool(tmp, "crashtest --kills 4 --durability batch --max-ms 60 --inject lose-ack --dir " + tmp.Sub("run"));
  INFO(o.out << o.err);
  CHECK(o.exit == 1);
  CHECK_THAT(o.out, Catch::Contains("acknowledged as rejected"));
}

TEST_CASE("run: options out of range exit 2", "[crashtest][run]") {
  TempDir tmp("rill-crashtest");
  const auto with = [&](auto set) {
    CrashtestOptions o = Short(tmp, "bank", 1);
    set(o);
    return RunInProcess<rill::examples::bank::BankWorkload>(o);
  };
  const Output outs[] = {
      with([](CrashtestOptions& o) { o.kills = 0; }),
      with([](CrashtestOptions& o) { o.durability = "fast"; }),
      with([](CrashtestOptions& o) { o.min_ms = 100, o.max_ms = 50; }),
      with([](CrashtestOptions& o) { o.segment_kib = 5; }),
      with([](CrashtestOptions& o) { o.inject = "everything"; }),
      with([](CrashtestOptions& o) { o.aggregates = 1; }),
  };
  for (const Output& o : outs) {
    INFO(o.err);
    CHECK(o.exit == 2);
    CHECK_THAT(o.err, Catch::StartsWith("rill crashtest: "));
  }
}

TEST_CASE("run: a directory that already holds a journal exits 2", "[crashtest][run]") {
  TempDir tmp("rill-crashtest");
  REQUIRE(::mkdir(tmp.Sub("run").c_str(), 0755) == 0);
  { auto e = t::OpenEngine(tmp.Sub("run/journal"), rill::journal::Durability::kNone); }
  const Output o = RunInProcess<rill::examples::bank::BankWorkload>(Short(tmp, "bank", 1));
  CHECK(o.exit == 2);
  CHECK_THAT(o.err, Catch::Contains("already holds a journal"));
}
