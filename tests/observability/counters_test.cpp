// The counters file: what a writer registers and publishes, a reader in this or another process
// reads back; staleness after the writer dies; clear errors for what is not a counters file; and
// a reader racing a writer (ThreadSanitizer) never sees a counter go back.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "rill/observability/counters_file.h"
#include "rill/observability/counters_reader.h"
#include "rill/tests/support/temp_dir.h"

using namespace rill::observability;

TEST_CASE("counters: a reader sees what the writer registered and published", "[counters]") {
  rill::test::TempDir tmp("rill-counters");
  auto file = CountersFile::Create(tmp.path(), "counters-test");
  REQUIRE(file.ok());
  auto accepted = (*file)->AddCounter("rill_commands_total", "result=\"accepted\"", "commands decided");
  auto rejected = (*file)->AddCounter("rill_commands_total", "result=\"rejected\"", "commands decided");
  auto fill = (*file)->AddGauge("rill_ring_fill", "", "slots waiting", "commands");
  auto lat = (*file)->AddHistogram("rill_batch_duration_seconds", "", "dequeue to commit", "seconds", 1e-9);
  REQUIRE((accepted.ok() && rejected.ok() && fill.ok() && lat.ok()));
  accepted->Add(5);
  accepted->Add(7);
  rejected->Add(1);
  fill->Set(42);
  lat->Record(0);
  lat->Record(1000);  // bit_width 10: bucket 10, bound 1023
  lat->Record(1500);  // bucket 11, bound 2047

  auto reader = CountersReader::Open(tmp.path());
  REQUIRE(reader.ok());
  const CountersSnapshot s = reader->Read();
  CHECK(s.pid == ::getpid());
  CHECK_FALSE(s.stale);
  CHECK(s.program == "counters-test");
  REQUIRE(s.metrics.size() == 4);
  CHECK(s.Value("rill_commands_total", "result=\"accepted\"") == 12);
  CHECK(s.Value("rill_commands_total", "result=\"rejected\"") == 1);
  CHECK(s.Value("rill_ring_fill") == 42);
  const MetricSample* h = s.Find("rill_batch_duration_seconds");
  REQUIRE(h != nullptr);
  CHECK(h->kind == MetricKind::kHistogram);
  CHECK(h->unit == "seconds");
  CHECK(h->scale == 1e-9);
  CHECK(h->histogram_count() == 3);
  CHECK(h->values[kHistogramBuckets] == 2500);  // the sum
  CHECK(h->values[0] == 1);
  CHECK(h->values[10] == 1);
  CHECK(h->values[11] == 1);
  CHECK(h->Quantile(0.5) == 1023);
  CHECK(h->Quantile(1.0) == 2047);
  CHECK(h->Quantile(0.01) == 0);
}

TEST_CASE("counters: registering a name twice returns the same metric, another kind is refused", "[counters]") {
  rill::test::TempDir tmp("rill-counters");
  auto file = CountersFile::Create(tmp.path(), "t");
  REQUIRE(file.ok());
  auto a = (*file)->AddCounter("rill_events_total", "projector=\"balances\"", "events applied");
  auto b = (*file)->AddCounter("rill_events_total", "projector=\"balances\"", "events applied");
  REQUIRE((a.ok() && b.ok()));
  a->Add(3);
  CHECK(b->value() == 3);
  auto wrong = (*file)->AddGauge("rill_events_total", "projector=\"balances\"", "x");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().ToString().find("another kind") != std::string::npos);
  auto too_long = (*file)->AddCounter(std::string(80, 'x'), "", "");
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.status().ToString().find("longer than 55 bytes") != std::string::npos);
  auto reader = CountersReader::Open(tmp.path());
  REQUIRE(reader.ok());
  CHECK(reader->Read().metrics.size() == 1);
}

TEST_CASE("counters: a full file refuses more metrics with a message", "[counters]") {
  rill::test::TempDir tmp("rill-counters");
  auto file = CountersFile::Create(tmp.path(), "t");
  REQUIRE(file.ok());
  // Histograms take 80 aligned words each: the values run out before the slots.
  int added = 0;
  rill::Status last;
  for (int i = 0; i < 1000; ++i) {
    auto h = (*file)->AddHistogram("h_" + std::to_string(i), "", "", "", 1.0);
    if (!h.ok()) {
      last = h.status();
      break;
    }
    ++added;
  }
  CHECK(added == static_cast<int>(kValueWords / 80));
  CHECK(last.ToString().find("is full") != std::string::npos);
}

TEST_CASE("counters: what is not a counters file gets a clear error", "[counters]") {
  rill::test::TempDir tmp("rill-counters");
  auto none = CountersReader::Open(tmp.path());
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().IsNotFound());
  CHECK(none.status().ToString().find("no counters file in") != std::string::npos);

  { std::ofstream(tmp.Sub("counters")) << "hello"; }
  auto small = CountersReader::Open(tmp.path());
  REQUIRE_FALSE(small.ok());
  CHECK(small.status().IsCorruption());
  CHECK(small.status().ToString().find("not a rill counters file") != std::string::npos);

  REQUIRE(CountersFile::Create(tmp.path(), "t").ok());
  {  // another format version
    std::fstream f(tmp.Sub("counters"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    const std::uint32_t v = 99;
    f.write(reinterpret_cast<const char*>(&v), sizeof v);
  }
  auto other = CountersReader::Open(tmp.path());
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().ToString().find("format version 99") != std::string::npos);

  REQUIRE(::mkdir(tmp.Sub("d").c_str(), 0755) == 0);
  REQUIRE(::mkfifo(tmp.Sub("d/counters").c_str(), 0644) == 0);
  auto fifo = CountersReader::Open(tmp.Sub("d"));
  REQUIRE_FALSE(fifo.ok());
  CHECK(fifo.status().ToString().find("FIFO") != std::string::npos);
}

TEST_CASE("counters: a dead writer's values stay readable and are marked stale", "[counters]") {
  rill::test::TempDir tmp("rill-counters");
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto file = CountersFile::Create(tmp.path(), "child");
    if (!file.ok()) ::_exit(2);
    auto c = (*file)->AddCounter("rill_commands_total", "result=\"accepted\"", "");
    if (!c.ok()) ::_exit(3);
    c->Add(1234);
    const char one = 1;
    if (::write(ready[1], &one, 1) != 1) ::_exit(4);
    ::pause();  // until killed
    ::_exit(0);
  }
  ::close(ready[1]);
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::close(ready[0]);
  auto reader = CountersReader::Open(tmp.path());
  REQUIRE(reader.ok());
  CountersSnapshot live = reader->Read();
  CHECK(live.pid == child);
  CHECK_FALSE(live.stale);
  CHECK(live.Value("rill_commands_total", "result=\"accepted\"") == 1234);
  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CountersSnapshot dead = reader->Read();
  CHECK(dead.stale);
  CHECK(dead.Value("rill_commands_total", "result=\"accepted\"") == 1234);

  // A writer that starts again replaces the file; the old reader notices.
  CHECK_FALSE(reader->Replaced());
  REQUIRE(CountersFile::Create(tmp.path(), "again").ok());
  CHECK(reader->Replaced());
}

TEST_CASE("counters: a reader racing the writer never sees a value go back", "[counters][concurrent]") {
  rill::test::TempDir tmp("rill-counters");
  auto file = CountersFile::Create(tmp.path(), "t");
  REQUIRE(file.ok());
  Counter c = (*file)->AddCounter("c_total", "", "").value();
  Histogram h = (*file)->AddHistogram("h", "", "", "", 1.0).value();
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (std::uint64_t i = 1; i <= 200'000; ++i) {
      c.Add(1);
      h.Record(i);
    }
    done.store(true, std::memory_order_release);
  });
  auto reader = CountersReader::Open(tmp.path());
  REQUIRE(reader.ok());
  std::uint64_t last = 0, last_count = 0, reads = 0;
  bool back = false;
  while (!done.load(std::memory_order_acquire) || reads == 0) {
    const CountersSnapshot s = reader->Read();
    const std::uint64_t v = s.Value("c_total");
    const std::uint64_t n = s.Find("h")->histogram_count();
    back = back || v < last || n < last_count;
    last = v;
    last_count = n;
    ++reads;
  }
  writer.join();
  CHECK_FALSE(back);
  CHECK(reader->Read().Value("c_total") == 200'000);
  CHECK(reader->Read().Find("h")->histogram_count() == 200'000);
}
