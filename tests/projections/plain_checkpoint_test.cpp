// Tests of projections/plain_checkpoint.h: a read model that writes only Apply (and names its
// containers in PlainState) is checkpointed by a projector, loaded on restart and catches up;
// a checkpoint of another layout or a damaged payload is refused with the container named.
#include <catch2/catch.hpp>

#include <map>
#include <tuple>

#include "projection_test_util.h"
#include "rill/projections/chunked_array.h"
#include "rill/projections/plain_checkpoint.h"
#include "rill/projections/projector_thread.h"
#include "rill/projections/seqlock_hash_map.h"

using namespace rill::projections;
using namespace std::chrono_literals;
using rill::projections::test::BankWorkload;
using rill::projections::test::JournalBuilder;
using rill::projections::test::Registry;
using rill::projections::test::TempDir;

namespace {

namespace fb = ::rill::bank;

struct OpenAccount {
  std::int64_t balance = 0;
  std::uint64_t version = 0;
  std::uint16_t currency = 0;
};
struct CurrencyCount {
  std::uint32_t opened = 0;
  std::uint32_t closed = 0;
};

// Open accounts by id (closed ones leave the map), accounts opened/closed per currency, and
// events per account: one container of each supported kind, and no Save/Load written.
class OpenAccounts : public PlainCheckpoint<OpenAccounts> {
 public:
  static constexpr std::string_view kName = "test.open_accounts";
  static constexpr std::uint32_t kVersion = 1;

  const char* Apply(const rill::codecs::DecodedEvent& e) {
    const std::uint64_t id = e.stream_id();
    SeqlockWords<1>& count = *events_.GetOrCreate(id);
    count.BeginWrite();
    count.WriteWord(0, count.OwnWord(0) + 1);
    count.EndWrite();
    if (const auto* o = e.As<fb::AccountOpened>()) {
      accounts_.Put(id, OpenAccount{0, e.stream_version(), o->currency()});
      Seqlocked<CurrencyCount>& c = *by_currency_.GetOrCreate(o->currency());
      CurrencyCount v = c.OwnValue();
      ++v.opened;
      c.Store(v);
      return nullptr;
    }
    if (const auto* d = e.As<fb::Deposited>()) return Move(e, d->amount());
    if (const auto* w = e.As<fb::Withdrawn>()) return Move(e, -w->amount());
    if (const auto* t = e.As<fb::TransferSent>()) return Move(e, -t->amount());
    if (const auto* t = e.As<fb::TransferReceived>()) return Move(e, t->amount());
    if (e.As<fb::AccountClosed>() != nullptr) {
      const auto a = accounts_.Get(id);
      if (!a || !accounts_.Erase(id)) return "test.open_accounts: closing an account that is not open";
      Seqlocked<CurrencyCount>& c = *by_currency_.GetOrCreate(a->currency);
      CurrencyCount v = c.OwnValue();
      ++v.closed;
      c.Store(v);
    }
    return nullptr;
  }
  auto PlainState() { return std::tie(accounts_, by_currency_, events_); }

  std::optional<OpenAccount> Get(std::uint64_t id) const { return accounts_.Get(id); }
  CurrencyCount Counts(std::uint16_t currency) const {
    const auto* c = by_currency_.Find(currency);
    return c ? c->Load() : CurrencyCount{};
  }
  std::uint64_t Events(std::uint64_t id) const {
    const auto* c = events_.Find(id);
    std::uint64_t w = 0;
    if (c) c->Read(&w);
    return w;
  }
  std::size_t size() const { return accounts_.size(); }

 private:
  const char* Move(const rill::codecs::DecodedEvent& e, std::int64_t delta) {
    if (!accounts_.Get(e.stream_id())) return "test.open_accounts: money moved on an account that is not open";
    accounts_.Upsert(e.stream_id(), [&](OpenAccount& a) {
      a.balance += delta;
      a.version = e.stream_version();
    });
    return nullptr;
  }

  SeqlockHashMap<OpenAccount> accounts_;
  ChunkedArray<Seqlocked<CurrencyCount>> by_currency_{1 << 16};
  ChunkedArray<SeqlockWords<1>> events_{1 << 22};
};
static_assert(ReadModel<OpenAccounts>);

// The same view with a wider record: its checkpoints do not fit.
struct WiderAccount {
  std::int64_t balance = 0;
  std::uint64_t version = 0;
  std::uint64_t currency = 0;
  std::uint64_t extra = 0;
};
class WiderAccounts : public PlainCheckpoint<WiderAccounts> {
 public:
  static constexpr std::string_view kName = "test.open_accounts";
  static constexpr std::uint32_t kVersion = 1;  // wrongly not bumped: Load must notice
  const char* Apply(const rill::codecs::DecodedEvent&) { return nullptr; }
  auto PlainState() { return std::tie(accounts_, by_currency_, events_); }

 private:
  SeqlockHashMap<WiderAccount> accounts_;
  ChunkedArray<Seqlocked<CurrencyCount>> by_currency_{1 << 16};
  ChunkedArray<SeqlockWords<1>> events_{1 << 22};
};

void CheckAgainst(const OpenAccounts& m, BankWorkload& w) {
  std::map<std::uint16_t, CurrencyCount> counts;
  std::size_t open = 0;
  for (const auto& [id, ref] : w.accounts()) {
    ++counts[ref.currency].opened;
    CHECK(m.Events(id) == ref.version);  // one event per stream version
    const auto got = m.Get(id);
    if (ref.state == 1) {
      ++open;
      REQUIRE(got.has_value());
      CHECK(got->balance == ref.balance);
      CHECK(got->version == ref.version);
      CHECK(got->currency == ref.currency);
    } else {
      ++counts[ref.currency].closed;
      CHECK_FALSE(got.has_value());
    }
  }
  CHECK(m.size() == open);
  for (const auto& [currency, c] : counts) {
    CHECK(m.Counts(currency).opened == c.opened);
    CHECK(m.Counts(currency).closed == c.closed);
  }
}

struct Run {
  std::unique_ptr<ProjectorThread> thread;
  std::vector<std::string> warnings;
};

template <typename M>
TypedProjector<M>* Start(Run& run, const std::string& journal, const std::string& ckpt) {
  ProjectorThreadOptions o;
  o.journal_directory = journal;
  o.registry = &Registry();
  o.idle_wait_ns = 2'000'000;
  o.checkpoint_directory = ckpt;
  o.checkpoint_every_events = 1'000'000'000;  // only the final checkpoint at Stop
  o.warn = [&run](const std::string& w) { run.warnings.push_back(w); };
  run.thread = ProjectorThread::Create(o).value();
  auto* v = run.thread->template Add<M>();
  REQUIRE(run.thread->Start().ok());
  return v;
}

}  // namespace

TEST_CASE("a read model with only Apply is checkpointed, loaded on restart and catches up",
          "[projections][checkpoint][plain]") {
  TempDir dir;
  const std::string journal = dir.Sub("journal"), ckpt = dir.Sub("ckpt");
  JournalBuilder j(journal);
  BankWorkload w(j, 21);
  for (int i = 0; i < 600; ++i) w.Step(80);
  const std::uint64_t first_end = j.last();
  {
    Run run;
    auto* v = Start<OpenAccounts>(run, journal, ckpt);
    REQUIRE(v->WaitFor(first_end, 60s).ok());
    CheckAgainst(v->model(), w);
    run.thread->Stop();  // the final checkpoint
    CHECK(v->checkpoint_position() == first_end);
    CHECK(run.warnings.empty());
  }
  for (int i = 0; i < 600; ++i) w.Step(80);
  Run run;
  auto* v = Start<OpenAccounts>(run, journal, ckpt);
  CHECK(v->checkpoint_position() == first_end);  // loaded: events up to first_end are not re-applied
  CHECK(run.warnings.empty());
  REQUIRE(v->WaitFor(j.last(), 60s).ok());
  CheckAgainst(v->model(), w);
}

TEST_CASE("a plain checkpoint round-trips through Save and Load", "[projections][checkpoint][plain]") {
  TempDir dir;
  JournalBuilder j(dir.Sub("journal"));
  BankWorkload w(j, 22);
  for (int i = 0; i < 300; ++i) w.Step(40);
  Run run;
  auto* v = Start<OpenAccounts>(run, dir.Sub("journal"), dir.Sub("ckpt"));
  REQUIRE(v->WaitFor(j.last(), 60s).ok());
  run.thread->Stop();
  std::vector<std::byte> bytes;
  v->model().Save(bytes);

  OpenAccounts loaded;
  REQUIRE(loaded.Load(bytes).ok());
  CheckAgainst(loaded, w);

  SECTION("a record of another size is refused, naming the container") {
    WiderAccounts wider;
    const rill::Status s = wider.Load(bytes);
    CHECK(s.IsInvalidArgument());
    CHECK_THAT(s.ToString(),
               Catch::Contains("test.open_accounts") && Catch::Contains("container 0") && Catch::Contains("kVersion"));
  }
  SECTION("a truncated payload is corruption") {
    bytes.resize(bytes.size() - 8);
    OpenAccounts m;
    CHECK(m.Load(bytes).IsCorruption());
  }
  SECTION("trailing bytes are corruption") {
    rill::projections::PutU64(bytes, 42);
    OpenAccounts m;
    CHECK(m.Load(bytes).IsCorruption());
  }
}
