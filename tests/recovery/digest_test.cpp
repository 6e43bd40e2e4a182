// The determinism check: the writer records digest records; a replay recomputes the digest
// and names the first digest record that differs (a modified domain, a tampered record).
#include <cstring>

#include "recovery_test_util.h"
#include "rill/engine/journal_replay.h"
#include "rill/engine/state_digest.h"
#include "rill/journal/journal_reader.h"
#include "rill/journal/journal_writer.h"

namespace {

using namespace rill::recovery_test;
namespace engine = rill::engine;

// The bank with a "fixed bug" in Evolve: a deposit of exactly 333 now adds one more cent.
struct ChangedBank : BankDomain {
  static void Evolve(Account& a, const Event& e) noexcept {
    BankDomain::Evolve(a, e);
    if (const auto* d = std::get_if<Deposited>(&e); d && d->amount == 333) a.balance += 1;
  }
};

rill::codecs::SchemaRegistry BankRegistry() {
  rill::codecs::SchemaRegistryBuilder b;
  BankDomain::RegisterEvents(b);
  auto r = std::move(b).Build();
  REQUIRE(r.ok());
  return std::move(r).value();
}

template <typename D>
engine::ReplayProgress ReplayAll(const std::string& dir, const rill::codecs::SchemaRegistry& reg,
                                 engine::CommandProcessor<D>* p) {
  auto r = rill::journal::JournalReader::Open({.directory = dir});
  REQUIRE(r.ok());
  engine::JournalReplayer<D> replayer(reg, p);
  engine::ReplayProgress progress;
  const rill::Status s = replayer.Run(**r, {}, &progress);
  INFO(s.ToString());
  REQUIRE(s.ok());
  p->FinishReplay();
  return progress;
}

struct Record {
  std::uint64_t position;
  std::uint16_t type;
};
std::vector<Record> Records(const std::string& dir) {
  std::vector<Record> out;
  auto r = rill::journal::JournalReader::Open({.directory = dir});
  REQUIRE(r.ok());
  rill::journal::Record rec;
  while ((*r)->Next(&rec) == rill::journal::ReadStatus::kRecord) out.push_back({rec.position, rec.type});
  return out;
}

}  // namespace

TEST_CASE("the digest is incremental, order-independent and ignores padding", "[recovery][digest]") {
  engine::StateDigest d;
  Account a{.balance = 5, .owner = 1, .currency = 978, .closed = false};
  Account b = a;
  std::memset(static_cast<void*>(&b), 0xab, sizeof b);  // garbage in the padding too
  b.balance = 5;
  b.owner = 1;
  b.currency = 978;
  b.closed = false;
  CHECK(engine::AggregateHash<BankDomain>(9, 3, a) == engine::AggregateHash<BankDomain>(9, 3, b));
  CHECK(engine::AggregateHash<BankDomain>(9, 3, a) != engine::AggregateHash<BankDomain>(9, 4, a));
  CHECK(engine::AggregateHash<BankDomain>(9, 3, a) != engine::AggregateHash<BankDomain>(8, 3, a));
  CHECK(engine::AggregateHash<BankDomain>(9, 0, a) == 0);  // no event yet: not part of the state
  const std::uint64_t h1 = engine::AggregateHash<BankDomain>(1, 1, a);
  const std::uint64_t h2 = engine::AggregateHash<BankDomain>(2, 1, a);
  d.Add(h1);
  d.Add(h2);
  engine::StateDigest e;
  e.Add(h2);
  e.Add(h1);
  CHECK(d.value() == e.value());
  a.balance = 6;
  d.Replace(h1, engine::AggregateHash<BankDomain>(1, 2, a));
  CHECK(d.value() != e.value());
}

TEST_CASE("the writer records digest records that a replay reproduces", "[recovery][digest]") {
  TempDir tmp("rill-digest");
  auto o = Options(tmp.Sub("j"));
  o.digest_interval_commands = 16;
  auto e = Open(o);
  RunWorkload(*e, 3, 0, 200);
  e->Stop();
  const std::uint64_t digest = Digest(*e);

  std::size_t digests = 0;
  for (const Record& r : Records(tmp.Sub("j"))) digests += r.type == engine::kDigestRecordType ? 1 : 0;
  CHECK(digests >= 200 / 16 / 2);  // at least one per batch that reached the interval

  const auto reg = BankRegistry();
  engine::CommandProcessor<BankDomain> p;
  const engine::ReplayProgress progress = ReplayAll(tmp.Sub("j"), reg, &p);
  CHECK(progress.digests_checked == digests);
  CHECK_FALSE(progress.digest_mismatch);
  CHECK(p.digest() == digest);

  // The engine's own recovery checks them too, and a restart keeps recording them.
  auto again = Open(o);
  CHECK(again->recovery().digests_checked == digests);
  CHECK_FALSE(again->recovery().digest_mismatch);
  CHECK(again->recovery().state_digest == digest);
}

TEST_CASE("a replay with a changed Evolve names the first digest record that differs", "[recovery][digest]") {
  TempDir tmp("rill-digest");
  auto o = Options(tmp.Sub("j"));
  o.digest_interval_commands = 1;  // a digest record in every batch
  std::uint64_t changed_at = 0;
  {
    auto e = Open(o);
    RunWorkload(*e, 3, 0, 60);
    const auto d = e->execute(Deposit{.account = 5, .amount = 333}, {.command_id = 90'001});
    REQUIRE(d.accepted());
    changed_at = d.position();
    RunWorkload(*e, 3, 60, 100);
  }
  // The first digest record after the 333 deposit is where the states part.
  std::uint64_t expected = 0;
  for (const Record& r : Records(tmp.Sub("j")))
    if (r.type == engine::kDigestRecordType && r.position > changed_at) {
      expected = r.position;
      break;
    }
  REQUIRE(expected != 0);

  const auto reg = BankRegistry();
  engine::CommandProcessor<ChangedBank> changed;
  const engine::ReplayProgress progress = ReplayAll(tmp.Sub("j"), reg, &changed);
  REQUIRE(progress.digest_mismatch);
  CHECK(progress.digest_mismatch->position == expected);
  CHECK(progress.digest_mismatch->recorded != progress.digest_mismatch->computed);

  engine::CommandProcessor<BankDomain> same;
  CHECK_FALSE(ReplayAll(tmp.Sub("j"), reg, &same).digest_mismatch);
}

TEST_CASE("a tampered digest record is reported at its position", "[recovery][digest]") {
  TempDir tmp("rill-digest");
  auto o = Options(tmp.Sub("j"));
  o.digest_interval_commands = 1000;  // none from the writer
  {
    auto e = Open(o);
    RunWorkload(*e, 3, 0, 50);
  }
  // Append a batch holding a wrong digest, as a buggy or hostile writer would.
  std::uint64_t bogus_at = 0;
  {
    const auto reg = BankRegistry();
    rill::journal::WriterOptions wo;
    wo.directory = tmp.Sub("j");
    wo.segment_size = o.journal.segment_size;
    wo.schema_fingerprint = reg.fingerprint();
    wo.schema_blob = std::as_bytes(reg.blob());
    auto w = rill::journal::JournalWriter::Open(wo);
    REQUIRE(w.ok());
    const engine::DigestRecord rec{12345, (*w)->committed_position()};
    auto span = (*w)->Reserve(sizeof rec, engine::kDigestRecordType);
    REQUIRE(span.ok());
    std::memcpy(span->data(), &rec, sizeof rec);
    auto last = (*w)->CommitBatch(1);
    REQUIRE(last.ok());
    bogus_at = *last;
  }
  auto e = Open(o);  // recovery reports it, and still starts
  REQUIRE(e->recovery().digest_mismatch);
  CHECK(e->recovery().digest_mismatch->position == bogus_at);
  CHECK(e->recovery().digest_mismatch->recorded == 12345);
}
