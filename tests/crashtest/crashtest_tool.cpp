// crashtest_tool: a test-only crash test binary for the test workloads (test_workloads.h), the
// few lines of a domain's own tool with a hand-made command line: the tests point
// CrashtestOptions::child_exe at it, so a parent (in-process in a test, or this binary) gets
// children that run the same workload, including ones that are broken on purpose.
//
//   crashtest_tool crashtest --domain shop --kills 20 --durability batch [--seed S] ...
//   crashtest_tool crashtest --domain shop --child --journal DIR ...     (what the parent runs)
//
// Domains: bank (default), bank-broken-invariant, shop. The flags are `rill crashtest`'s
// (tools/README.md); exit codes too (2: a flag it does not know).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "rill/tools/crashtest/crashtest.h"
#include "test_workloads.h"

namespace {

using rill::tools::crashtest::CrashtestOptions;
using rill::tools::crashtest::RunCrashtest;
namespace t = rill::tools::crashtest::test;

bool ParseInt(const char* s, long long lo, long long hi, long long* out) {
  char* end = nullptr;
  const long long v = std::strtoll(s, &end, 10);
  if (end == s || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// The parent draws seeds from all 64 bits.
bool ParseSeed(const char* s, std::uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || v == 0 || s[0] == '-') return false;
  *out = v;
  return true;
}

// Fills `o` from argv[2..]; false (with a message on stderr) for anything it does not know.
// Ranges are wide on purpose: RunCrashtest reports values out of its ranges itself (exit 2).
bool Parse(int argc, char** argv, CrashtestOptions* o) {
  struct Flag {
    const char* name;
    bool* on = nullptr;
    std::string* text = nullptr;
    int* number = nullptr;
  };
  int segment_kib = static_cast<int>(o->segment_kib);
  const Flag flags[] = {{"--child", &o->child},
                        {"--keep", &o->keep},
                        {"--json", &o->json},
                        {"--domain", nullptr, &o->domain},
                        {"--durability", nullptr, &o->durability},
                        {"--dir", nullptr, &o->dir},
                        {"--inject", nullptr, &o->inject},
                        {"--journal", nullptr, &o->journal},
                        {"--retry-file", nullptr, &o->retry_file},
                        {"--replicate", nullptr, &o->replicate},
                        {"--app", nullptr, &o->app},
                        {"--shard", nullptr, &o->shard},
                        {"--holder", nullptr, &o->holder},
                        {"--lease-ttl-ms", nullptr, nullptr, &o->lease_ttl_ms},
                        {"--replicas", nullptr, nullptr, &o->replicas},
                        {"--kills", nullptr, nullptr, &o->kills},
                        {"--min-ms", nullptr, nullptr, &o->min_ms},
                        {"--max-ms", nullptr, nullptr, &o->max_ms},
                        {"--producers", nullptr, nullptr, &o->producers},
                        {"--aggregates", nullptr, nullptr, &o->aggregates},
                        {"--rate", nullptr, nullptr, &o->rate},
                        {"--segment-kib", nullptr, nullptr, &segment_kib},
                        {"--round", nullptr, nullptr, &o->round},
                        {"--ack-fd", nullptr, nullptr, &o->ack_fd}};
  for (int i = 2; i < argc; ++i) {
    const std::string name = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    bool ok = false;
    if (name == "--seed") {
      ok = value != nullptr && ParseSeed(value, &o->seed);
      ++i;
    }
    for (const Flag& f : flags) {
      if (name != f.name) continue;
      long long n = 0;
      if (f.on != nullptr) {
        *f.on = ok = true;
      } else if (value != nullptr && f.text != nullptr) {
        *f.text = value, ok = true;
      } else if (value != nullptr && ParseInt(value, INT32_MIN, INT32_MAX, &n)) {
        *f.number = static_cast<int>(n), ok = true;
      }
      if (f.on == nullptr) ++i;
    }
    if (!ok) {
      std::fprintf(stderr, "crashtest_tool: unknown flag, or a bad or missing value: %s %s\n", name.c_str(),
                   value != nullptr ? value : "");
      return false;
    }
  }
  o->segment_kib = static_cast<std::uint32_t>(segment_kib);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CrashtestOptions o;
  o.program = "crashtest_tool";
  if (argc < 2 || std::strcmp(argv[1], "crashtest") != 0 || !Parse(argc, argv, &o)) {
    std::fprintf(stderr, "usage: crashtest_tool crashtest [--domain bank|bank-broken-invariant|shop] [flags]\n");
    return 2;
  }
  if (o.domain.empty()) o.domain = "bank";
  if (o.domain == "bank") return RunCrashtest<rill::examples::bank::BankWorkload>(o, stdout, stderr);
  if (o.domain == "bank-broken-invariant") return RunCrashtest<t::BrokenInvariantWorkload>(o, stdout, stderr);
  if (o.domain == "shop") return RunCrashtest<t::ShopWorkload>(o, stdout, stderr);
  std::fprintf(stderr, "crashtest_tool: unknown --domain '%s': bank, bank-broken-invariant or shop\n",
               o.domain.c_str());
  return 2;
}
