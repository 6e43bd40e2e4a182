// `rill top`: the view computed from two counters readings (rates, interval percentiles,
// projector lag, a restarted writer), its JSON, and the real binary against a live engine in
// this process, a missing counters file and a bad flag.
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <thread>

#include "inspect_test_util.h"
#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/observability/counters_file.h"
#include "rill/observability/counters_reader.h"
#include "rill/tools/top/top_view.h"

namespace {

using namespace rill::tools::test;
using rill::observability::CountersFile;
using rill::observability::CountersReader;
using rill::observability::CountersSnapshot;

constexpr std::int64_t kSecond = 1'000'000'000;

// An engine on a journal in `dir` with a steady trickle of commands (deposits, and deposits to a
// missing account when `with_rejections`), for rill top to watch from outside; stops on destruction.
class LiveBank {
 public:
  LiveBank(const std::string& dir, bool with_rejections) {
    rill::engine::EngineOptions o;
    o.journal.directory = dir;
    o.journal.segment_size = 1u << 20;
    o.log_to_stderr = false;
    auto e = rill::engine::Engine<rill::examples::bank::BankDomain>::Open(o);
    REQUIRE(e.ok());
    engine_ = std::move(*e);
    load_ = std::thread([this, with_rejections] {
      std::uint64_t id = 0;
      engine_->execute(rill::examples::bank::OpenAccount{.account = 1, .owner = 1, .currency = 978},
                       {.command_id = ++id});
      while (!stop_.load(std::memory_order_relaxed)) {
        engine_->execute(rill::examples::bank::Deposit{.account = 1, .amount = 1}, {.command_id = ++id});
        if (with_rejections)
          engine_->execute(rill::examples::bank::Deposit{.account = 2, .amount = 1}, {.command_id = ++id});
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  ~LiveBank() {
    stop_.store(true);
    load_.join();
  }

 private:
  std::unique_ptr<rill::engine::Engine<rill::examples::bank::BankDomain>> engine_;
  std::atomic<bool> stop_{false};
  std::thread load_;
};

TEST_CASE("top view: rates and percentiles over the interval, projector lag now", "[tools][top]") {
  TempDir tmp;
  auto file = CountersFile::Create(tmp.path(), "svc");
  REQUIRE(file.ok());
  auto accepted = (*file)->AddCounter("rill_commands_total", "result=\"accepted\"", "").value();
  auto rejected = (*file)->AddCounter("rill_commands_total", "result=\"rejected\"", "").value();
  auto not_found = (*file)->AddCounter("rill_rejections_total", "reason=\"not_found\"", "").value();
  auto batch = (*file)->AddHistogram("rill_batch_commands", "", "", "", 1.0).value();
  auto committed = (*file)->AddGauge("rill_journal_committed_position", "", "").value();
  auto position = (*file)->AddGauge("rill_projector_position", "projector=\"bank.balances\"", "").value();
  auto lag = (*file)->AddGauge("rill_projector_lag_events", "projector=\"bank.balances\"", "").value();
  auto applied_ts =
      (*file)
          ->AddGauge("rill_projector_applied_timestamp_seconds", "projector=\"bank.balances\"", "", "seconds", 1e-9)
          .value();
  auto custom = (*file)->AddGauge("myapp_queue_depth", "", "").value();
  auto reader = CountersReader::Open(tmp.path());
  REQUIRE(reader.ok());

  accepted.Add(1000);
  for (int i = 0; i < 100; ++i) batch.Record(1000);  // before the interval: must not count
  const CountersSnapshot prev = reader->Read();
  accepted.Add(3000);
  rejected.Add(500);
  not_found.Add(500);
  for (int i = 0; i < 100; ++i) batch.Record(i < 98 ? 3 : 200);  // p50 bucket [2,3], p99 [128,255]
  committed.Set(8000);
  position.Set(7000);
  lag.Set(1000);
  const std::int64_t now = 1'800'000'000 * kSecond;
  applied_ts.Set(static_cast<std::uint64_t>(now - kSecond / 4));
  custom.Set(17);
  const CountersSnapshot cur = reader->Read();

  const rill::tools::TopView v = rill::tools::ComputeTopView(tmp.path(), prev, cur, 2.0, now);
  CHECK(v.accepted_per_s == 1500);
  CHECK(v.rejected_per_s == 250);
  CHECK(v.commands_per_s == 1750);
  CHECK(v.accepted_total == 4000);
  REQUIRE(v.rejections.size() == 1);
  CHECK(v.rejections[0].label == "not_found");
  CHECK(v.rejections[0].per_s == 250);
  CHECK(v.batch_commands_p50 == 3);
  CHECK(v.batch_commands_p99 == 255);
  CHECK(v.committed_position == 8000);
  REQUIRE(v.projectors.size() == 1);
  CHECK(v.projectors[0].name == "bank.balances");
  CHECK(v.projectors[0].lag_events == 1000);
  CHECK(std::abs(v.projectors[0].lag_seconds - 0.25) < 1e-9);
  CHECK(v.projectors[0].state == "running");
  REQUIRE(v.other.size() == 1);
  CHECK(v.other[0] == "myapp_queue_depth 17");

  const std::string text = rill::tools::RenderTopText(v);
  CHECK(text.find("commands/s            1,750") != std::string::npos);
  CHECK(text.find("not_found 500 (250/s)") != std::string::npos);
  CHECK(text.find("bank.balances") != std::string::npos);
  Json j;
  REQUIRE(JsonReader::Parse(rill::tools::RenderTopJson(v), &j));
  CHECK(j["commands_per_s"].text == "1750");
  CHECK(j["rejections"]["not_found"]["total"].text == "500");
  CHECK(j["projectors"].items.at(0)["lag_events"].text == "1000");
  CHECK(j["stale"].text == "false");

  // With a replicator's status file beside the journal.
  rill::replication::ReplicationStatus r;
  r.state = "retrying: no responders";
  r.lag_seconds = 1.5;
  const rill::tools::TopView rv = rill::tools::ComputeTopView(tmp.path(), prev, cur, 2.0, now, &r);
  CHECK(rill::tools::RenderTopText(rv).find(
            "replicator   retrying: no responders, oldest unreplicated batch 1.5 s old") != std::string::npos);
  Json rj;
  REQUIRE(JsonReader::Parse(rill::tools::RenderTopJson(rv), &rj));
  CHECK(rj["replicator"]["state"].text == "retrying: no responders");

  // A writer that restarted (another pid): rates need two readings of the same process.
  CountersSnapshot other = prev;
  other.pid = prev.pid + 1;
  const rill::tools::TopView restarted = rill::tools::ComputeTopView(tmp.path(), other, cur, 2.0, now);
  CHECK(restarted.accepted_per_s == 0);
  CHECK(restarted.accepted_total == 4000);
}

TEST_CASE("cli: rill top --once --json reads a live engine from outside", "[tools][top][cli]") {
  TempDir tmp;
  Output out;
  {
    LiveBank bank(tmp.Sub("j"), /*with_rejections=*/true);
    out = RunRill(tmp, "top " + tmp.Sub("j") + " --once --json --interval 0.5");
  }
  INFO(out.err);
  CHECK(out.exit == 0);
  Json j;
  REQUIRE(JsonReader::Parse(out.out, &j));
  CHECK(j["stale"].text == "false");
  CHECK(j["program"].text == "rill");
  CHECK(std::stod(j["accepted_per_s"].text) > 0);
  CHECK(std::stod(j["rejections"]["not_found"]["per_s"].text) > 0);
  CHECK(std::stoull(j["committed_position"].text) > 0);
  CHECK(std::stod(j["ack_latency"]["journaled"]["sampled"].text) > 0);
  CHECK(std::stod(j["ack_latency"]["journaled"]["p99_seconds"].text) > 0);

  const Output text = RunRill(tmp, "top " + tmp.Sub("j") + " --once --interval 0.1");
  CHECK(text.exit == 0);
  CHECK(text.out.find("rill top  " + tmp.Sub("j")) == 0);
}

TEST_CASE("cli: rill top without a counters file exits 3, a bad flag 2", "[tools][top][cli]") {
  TempDir tmp;
  const Output none = RunRill(tmp, "top " + tmp.path() + " --once");
  CHECK(none.exit == 3);
  CHECK(Lines(none.err).size() == 1);
  CHECK(none.err.find("no counters file in " + tmp.path()) != std::string::npos);
  const Output bad = RunRill(tmp, "top " + tmp.path() + " --interval 0");
  CHECK(bad.exit == 2);
  CHECK(bad.err.find("--interval") != std::string::npos);
}

}  // namespace

namespace {

// `tmux -L <socket> <args>` (a private tmux server per test); its stdout, and the exit code.
Output Tmux(const TempDir& tmp, const std::string& socket, const std::string& args) {
  return RunBinary(tmp, "tmux", "-L " + socket + " " + args);
}

std::uint64_t CommittedOnScreen(const std::string& screen) {
  const std::size_t at = screen.find("committed ");
  if (at == std::string::npos) return 0;
  std::string digits;
  for (std::size_t i = at + 10;
       i < screen.size() && (std::isdigit(static_cast<unsigned char>(screen[i])) || screen[i] == ','); ++i)
    if (screen[i] != ',') digits += screen[i];
  return digits.empty() ? 0 : std::stoull(digits);
}

}  // namespace

TEST_CASE("rill top in a real terminal (tmux): the screen redraws and its numbers move", "[tools][top][tmux]") {
  TempDir tmp;
  if (std::system("command -v tmux >/dev/null 2>&1") != 0) {
    WARN("skipped: tmux is not installed (scripts/install-deps.sh installs it)");
    return;
  }
  auto bank = std::make_unique<LiveBank>(tmp.Sub("j"), /*with_rejections=*/false);
  const std::string socket = "rill-top-test-" + std::to_string(::getpid());
  const Output started = Tmux(
      tmp, socket,
      "new-session -d -s top -x 132 -y 40 '" + std::string(RILL_BIN) + " top " + tmp.Sub("j") + " --interval 0.3'");
  REQUIRE(started.exit == 0);
  auto capture = [&] { return Tmux(tmp, socket, "capture-pane -p -t top").out; };
  std::string first;
  for (int i = 0; i < 100 && CommittedOnScreen(first) == 0; ++i) {  // the first reading takes --interval
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    first = capture();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  const std::string second = capture();
  bank.reset();
  Tmux(tmp, socket, "kill-server");
  INFO("first screen:\n" << first << "\nsecond screen:\n" << second);
  CHECK(first.rfind("rill top  " + tmp.Sub("j"), 0) == 0);  // redrawn at the top, not scrolled
  CHECK(second.rfind("rill top  " + tmp.Sub("j"), 0) == 0);
  CHECK(second.find("running") != std::string::npos);
  CHECK(CommittedOnScreen(first) > 0);
  CHECK(CommittedOnScreen(second) > CommittedOnScreen(first));
  CHECK(second.find("commands/s") != std::string::npos);
}
