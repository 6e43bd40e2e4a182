// Tests of projections/checkpoint.cpp and checkpoint use by the projector thread: save, load
// and catch up; incompatible, corrupt and beyond-the-end checkpoints are not used.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "projection_test_util.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/examples/bank/read_models/top_accounts.h"
#include "rill/projections/checkpoint.h"
#include "rill/projections/projector_thread.h"

using namespace rill::projections;
using namespace std::chrono_literals;
using rill::projections::test::BankWorkload;
using rill::projections::test::JournalBuilder;
using rill::projections::test::Registry;
using rill::projections::test::TempDir;

namespace {

// The same read model with a newer layout version: its checkpoints are not interchangeable.
class BalancesV2 : public bank::Balances {
 public:
  static constexpr std::uint32_t kVersion = 2;
};

struct Run {
  std::unique_ptr<ProjectorThread> thread;
  std::vector<std::string> warnings;
};

template <typename M = bank::Balances>
TypedProjector<M>* Start(Run& run, const std::string& journal, const std::string& ckpt, std::uint64_t fingerprint = 0) {
  ProjectorThreadOptions o;
  o.journal_directory = journal;
  o.registry = &Registry();
  o.idle_wait_ns = 2'000'000;
  o.checkpoint_directory = ckpt;
  o.checkpoint_every_events = 1'000'000'000;  // only the final checkpoint at Stop: deterministic
  o.schema_fingerprint = fingerprint;
  o.warn = [&run](const std::string& w) { run.warnings.push_back(w); };  // Start and Stop only
  run.thread = ProjectorThread::Create(o).value();
  auto* v = run.thread->template Add<M>();
  REQUIRE(run.thread->Start().ok());
  return v;
}

bool AnyContains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x.find(s) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("checkpoint file round-trips and rejects a flipped byte", "[projections][checkpoint]") {
  TempDir dir;
  std::vector<std::byte> payload(1000);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::byte>(i * 7);
  const CheckpointMeta meta{"v", 3, 0xfeed, 500};
  REQUIRE(WriteCheckpoint(dir.path(), meta, payload).ok());
  std::vector<std::string> notes;
  auto got = LoadNewestCheckpoint(dir.path(), meta, 500, &notes);
  REQUIRE(got.has_value());
  CHECK(got->position == 500);
  CHECK(got->payload == payload);

  const std::string path = got->path;
  const int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  const char x = 1;
  REQUIRE(::pwrite(fd, &x, 1, 200) == 1);
  ::close(fd);
  CHECK_FALSE(LoadNewestCheckpoint(dir.path(), meta, 500, &notes).has_value());
  CHECK(AnyContains(notes, "checksum"));
}

TEST_CASE("only the newest checkpoints are kept, and the newest valid one wins", "[projections][checkpoint]") {
  TempDir dir;
  const std::vector<std::byte> payload(16, std::byte{1});
  for (std::uint64_t p : {10, 20, 30}) REQUIRE(WriteCheckpoint(dir.path(), {"v", 1, 1, p}, payload, 2).ok());
  CHECK(::access((dir.path() + "/v-00000000000000000010.ckpt").c_str(), F_OK) != 0);
  // Damage the newest: the older one is used.
  REQUIRE(::truncate((dir.path() + "/v-00000000000000000030.ckpt").c_str(), 70) == 0);
  std::vector<std::string> notes;
  auto got = LoadNewestCheckpoint(dir.path(), {"v", 1, 1, 0}, 1000, &notes);
  REQUIRE(got.has_value());
  CHECK(got->position == 20);
  CHECK(notes.size() == 1);
}

TEST_CASE("a projector saves a checkpoint, loads it on restart and catches up from there",
          "[projections][checkpoint]") {
  TempDir dir;
  const std::string journal = dir.Sub("journal"), ckpt = dir.Sub("ckpt");
  REQUIRE(::mkdir(ckpt.c_str(), 0755) == 0);
  JournalBuilder j(journal);
  BankWorkload w(j, 11);
  for (int i = 0; i < 500; ++i) w.Step(50);
  const std::uint64_t first_end = j.last();
  {
    Run run;
    auto* v = Start(run, journal, ckpt);
    REQUIRE(v->WaitFor(first_end, 60s).ok());
    run.thread->Stop();  // writes the final checkpoint
    CHECK(v->checkpoint_position() == first_end);
  }
  for (int i = 0; i < 500; ++i) w.Step(50);
  Run run;
  auto* v = Start(run, journal, ckpt);
  CHECK(v->checkpoint_position() == first_end);  // loaded, not rebuilt
  CHECK(v->applied_position() >= first_end);
  REQUIRE(v->WaitFor(j.last(), 60s).ok());
  for (const auto& [id, ref] : w.accounts()) CHECK(v->model().Get(id)->balance == ref.balance);
  CHECK(run.warnings.empty());
}

TEST_CASE("a checkpoint for another schema fingerprint or read-model version is ignored: rebuild from zero",
          "[projections][checkpoint]") {
  TempDir dir;
  const std::string journal = dir.Sub("journal"), ckpt = dir.Sub("ckpt");
  REQUIRE(::mkdir(ckpt.c_str(), 0755) == 0);
  JournalBuilder j(journal);
  BankWorkload w(j, 12);
  for (int i = 0; i < 300; ++i) w.Step(40);
  {
    Run run;
    auto* v = Start(run, journal, ckpt, /*fingerprint=*/0x1111);
    REQUIRE(v->WaitFor(j.last(), 60s).ok());
  }  // destructor: Stop + checkpoint
  SECTION("other fingerprint") {
    Run run;
    auto* v = Start(run, journal, ckpt, /*fingerprint=*/0x2222);
    CHECK(v->checkpoint_position() == 0);
    CHECK(AnyContains(run.warnings, "another schema fingerprint"));
    REQUIRE(v->WaitFor(j.last(), 60s).ok());
    for (const auto& [id, ref] : w.accounts()) CHECK(v->model().Get(id)->balance == ref.balance);
  }
  SECTION("other read-model version") {
    Run run;
    auto* v = Start<BalancesV2>(run, journal, ckpt, /*fingerprint=*/0x1111);
    CHECK(v->checkpoint_position() == 0);
    CHECK(AnyContains(run.warnings, "read-model version 1"));
    REQUIRE(v->WaitFor(j.last(), 60s).ok());
    for (const auto& [id, ref] : w.accounts()) CHECK(v->model().Get(id)->balance == ref.balance);
  }
}

TEST_CASE("a checkpoint beyond the journal's end is discarded", "[projections][checkpoint]") {
  TempDir dir;
  const std::string journal = dir.Sub("journal"), ckpt = dir.Sub("ckpt");
  REQUIRE(::mkdir(ckpt.c_str(), 0755) == 0);
  JournalBuilder j(journal);
  BankWorkload w(j, 13);
  for (int i = 0; i < 100; ++i) w.Step(10);
  // As if a power loss took the journal's tail after the checkpoint was written.
  std::vector<std::byte> payload;
  bank::Balances().Save(payload);
  REQUIRE(WriteCheckpoint(ckpt, {"bank.balances", bank::Balances::kVersion, Registry().fingerprint(), j.last() + 50},
                          payload)
              .ok());
  Run run;
  auto* v = Start(run, journal, ckpt);
  CHECK(v->checkpoint_position() == 0);
  CHECK(AnyContains(run.warnings, "beyond the journal's end"));
  REQUIRE(v->WaitFor(j.last(), 60s).ok());
  for (const auto& [id, ref] : w.accounts()) CHECK(v->model().Get(id)->balance == ref.balance);
}

TEST_CASE("periodic checkpoints are taken off the hot path while projecting", "[projections][checkpoint]") {
  TempDir dir;
  const std::string journal = dir.Sub("journal"), ckpt = dir.Sub("ckpt");
  REQUIRE(::mkdir(ckpt.c_str(), 0755) == 0);
  JournalBuilder j(journal);
  BankWorkload w(j, 14);
  ProjectorThreadOptions o;
  o.journal_directory = journal;
  o.registry = &Registry();
  o.idle_wait_ns = 2'000'000;
  o.checkpoint_directory = ckpt;
  o.checkpoint_every_events = 100;
  o.checkpoint_min_interval_ns = 0;
  o.max_batch_events = 8;
  auto t = ProjectorThread::Create(o).value();
  auto* top = t->Add<bank::TopAccounts>();
  REQUIRE(t->Start().ok());
  for (int i = 0; i < 1000; ++i) w.Step(30);
  REQUIRE(top->WaitFor(j.last(), 60s).ok());
  t->Stop();
  CHECK(top->checkpoint_position() == j.last());
  std::vector<std::string> notes;
  auto got = LoadNewestCheckpoint(ckpt, {"bank.top_accounts", 1, Registry().fingerprint(), 0}, j.last(), &notes);
  REQUIRE(got.has_value());
  bank::TopAccounts restored;
  REQUIRE(restored.Load(got->payload).ok());
  const auto want = w.Top(10);
  const auto list = restored.Top();
  REQUIRE(list.count == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(list.entries[i].account == want[i].first);
}

TEST_CASE("a checkpoint never records a position the journal has not made durable", "[projections][checkpoint]") {
  TempDir dir;
  const std::string journal = dir.Sub("journal"), ckpt = dir.Sub("ckpt");
  REQUIRE(::mkdir(ckpt.c_str(), 0755) == 0);
  std::uint64_t last = 0;
  {
    // kInterval with an hour-long interval: nothing written here becomes durable until Close.
    JournalBuilder j(journal, 1 << 20, rill::journal::Durability::kInterval);
    BankWorkload w(j, 15);
    for (int i = 0; i < 200; ++i) w.Step(20);
    last = j.last();
    const std::uint64_t durable = j.writer().durable_position();
    REQUIRE(durable < last);
    Run run;
    auto* v = Start(run, journal, ckpt);
    REQUIRE(v->WaitFor(last, 60s).ok());
    run.thread->Stop();  // would checkpoint at `last`, but that is not durable
    CHECK(v->checkpoint_position() <= durable);
  }                                  // the writer's Close syncs everything
  JournalBuilder reopened(journal);  // recovery: durable == committed
  REQUIRE(reopened.writer().durable_position() == last);
  Run run;
  auto* v = Start(run, journal, ckpt);
  REQUIRE(v->WaitFor(last, 60s).ok());
  run.thread->Stop();
  CHECK(v->checkpoint_position() == last);
}
