// Tests of the checkpoint directory handling in projections/projector_thread.cpp: Create makes
// a missing directory (checkpoints used to go missing with only a warning at Stop), and refuses
// one it cannot make, naming it.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <tuple>

#include "projection_test_util.h"
#include "rill/projections/checkpoint.h"
#include "rill/projections/chunked_array.h"
#include "rill/projections/plain_checkpoint.h"
#include "rill/projections/projector_thread.h"

using namespace rill::projections;
using namespace std::chrono_literals;
using rill::projections::test::BankWorkload;
using rill::projections::test::JournalBuilder;
using rill::projections::test::Registry;
using rill::projections::test::TempDir;

namespace {

// Counts events per stream: the smallest model with a checkpoint.
class EventCounts : public PlainCheckpoint<EventCounts> {
 public:
  static constexpr std::string_view kName = "test.event_counts";
  static constexpr std::uint32_t kVersion = 1;
  const char* Apply(const rill::codecs::DecodedEvent& e) {
    Seqlocked<std::uint64_t>& c = *counts_.GetOrCreate(e.stream_id());
    c.Store(c.OwnValue() + 1);
    return nullptr;
  }
  auto PlainState() { return std::tie(counts_); }

 private:
  ChunkedArray<Seqlocked<std::uint64_t>> counts_{1 << 20};
};

ProjectorThreadOptions Options(const std::string& journal, const std::string& ckpt,
                               std::vector<std::string>* warnings) {
  ProjectorThreadOptions o;
  o.journal_directory = journal;
  o.registry = &Registry();
  o.idle_wait_ns = 2'000'000;
  o.checkpoint_directory = ckpt;
  o.warn = [warnings](const std::string& w) { warnings->push_back(w); };
  return o;
}

}  // namespace

TEST_CASE("a projector thread creates its missing checkpoint directory", "[projections][checkpoint]") {
  TempDir dir;
  const std::string journal = dir.Sub("journal"), ckpt = dir.Sub("state/views/checkpoints");
  JournalBuilder j(journal);
  BankWorkload w(j, 31);
  for (int i = 0; i < 100; ++i) w.Step(20);
  std::vector<std::string> warnings;
  {
    auto t = ProjectorThread::Create(Options(journal, ckpt, &warnings)).value();
    auto* v = t->Add<EventCounts>();
    REQUIRE(t->Start().ok());
    REQUIRE(v->WaitFor(j.last(), 60s).ok());
    t->Stop();
  }
  CHECK(warnings.empty());  // before the fix: "cannot write checkpoint ..." at Stop
  const auto files = ListCheckpoints(ckpt);
  REQUIRE(files.size() == 1);
  CHECK(files[0].name == "test.event_counts");
  CHECK(files[0].position == j.last());
  CHECK(files[0].problem.empty());

  auto t = ProjectorThread::Create(Options(journal, ckpt, &warnings)).value();  // exists now: fine
  auto* v = t->Add<EventCounts>();
  REQUIRE(t->Start().ok());
  CHECK(v->checkpoint_position() == j.last());
}

TEST_CASE("a checkpoint directory that cannot be created fails Create, naming it", "[projections][checkpoint]") {
  TempDir dir;
  const std::string journal = dir.Sub("journal");
  JournalBuilder j(journal);
  BankWorkload w(j, 32);
  w.Step(5);
  const std::string file = dir.Sub("a-file");
  const int fd = ::open(file.c_str(), O_CREAT | O_WRONLY, 0644);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::vector<std::string> warnings;
  for (const std::string& ckpt : {file, file + "/checkpoints"}) {
    auto t = ProjectorThread::Create(Options(journal, ckpt, &warnings));
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().IsIOError());
    CHECK_THAT(t.status().ToString(), Catch::Contains("checkpoint directory '" + ckpt + "'"));
  }
}
