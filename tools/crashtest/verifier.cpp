#include "rill/tools/crashtest/verifier.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "rill/codecs/decoder.h"
#include "rill/codecs/schema_registry.h"
#include "rill/engine/engine.h"
#include "rill/engine/event_record.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/journal/journal_verifier.h"
#include "rill/projections/projector_thread.h"

namespace rill::tools::crashtest {
namespace {

namespace bk = examples::bank;
namespace fb = ::rill::bank;
using BankEngine = engine::Engine<bk::BankDomain>;
using Clock = std::chrono::steady_clock;

std::string N(std::uint64_t v) { return std::to_string(v); }
std::string S(std::int64_t v) { return std::to_string(v); }

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// One journaled event, reduced to what the checks need.
struct Ev {
  enum Kind : std::uint8_t { kOpened, kDeposited, kWithdrawn, kSent, kReceived, kClosed };
  Kind kind = kOpened;
  std::uint64_t position = 0, stream = 0, version = 0;
  std::uint64_t other = 0;  // owner / counterparty
  std::int64_t amount = 0;  // amount / currency
};

const char* KindName(Ev::Kind k) {
  static const char* const kNames[] = {"AccountOpened", "Deposited",        "Withdrawn",
                                       "TransferSent",  "TransferReceived", "AccountClosed"};
  return kNames[k];
}

std::string Describe(const bk::Command& c) {
  if (const auto* o = std::get_if<bk::OpenAccount>(&c)) return "open account " + N(o->account);
  if (const auto* d = std::get_if<bk::Deposit>(&c)) return "deposit " + S(d->amount) + " to account " + N(d->account);
  if (const auto* w = std::get_if<bk::Withdraw>(&c))
    return "withdraw " + S(w->amount) + " from account " + N(w->account);
  if (const auto* t = std::get_if<bk::Transfer>(&c))
    return "transfer " + S(t->amount) + " from account " + N(t->from) + " to " + N(t->to);
  return "close account " + N(std::get<bk::CloseAccount>(c).account);
}

std::string Describe(const Ev* evs, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += " + ";
    s += std::string(KindName(evs[i].kind)) + "(stream " + N(evs[i].stream) + ", amount " + S(evs[i].amount) + ")";
  }
  return s;
}

bool Matches(const bk::Command& c, const Ev* e, std::size_t n) {
  if (const auto* o = std::get_if<bk::OpenAccount>(&c))
    return n == 1 && e[0].kind == Ev::kOpened && e[0].stream == o->account && e[0].other == o->owner &&
           e[0].amount == o->currency;
  if (const auto* d = std::get_if<bk::Deposit>(&c))
    return n == 1 && e[0].kind == Ev::kDeposited && e[0].stream == d->account && e[0].amount == d->amount;
  if (const auto* w = std::get_if<bk::Withdraw>(&c))
    return n == 1 && e[0].kind == Ev::kWithdrawn && e[0].stream == w->account && e[0].amount == w->amount;
  if (const auto* t = std::get_if<bk::Transfer>(&c))
    return n == 2 && e[0].kind == Ev::kSent && e[0].stream == t->from && e[0].other == t->to &&
           e[0].amount == t->amount && e[1].kind == Ev::kReceived && e[1].stream == t->to && e[1].other == t->from &&
           e[1].amount == t->amount;
  const auto& x = std::get<bk::CloseAccount>(c);
  return n == 1 && e[0].kind == Ev::kClosed && e[0].stream == x.account;
}

struct Account {
  bool exists = false, closed = false;
  std::int64_t balance = 0;
  std::uint64_t version = 0;
};

// Walks the journal once (CheckJournal's visitor), checking records as they come.
class Scan final : public journal::CheckVisitor {
 public:
  Scan(const Ledger& ledger, const codecs::SchemaRegistry& registry)
      : ledger_(ledger),
        decoder_(registry),
        accounts_(ledger.accounts() + 1),
        last_position_(ledger.capacity(), 0),
        first_version_(ledger.capacity(), 0),
        event_count_(ledger.capacity(), 0) {}

  void OnRecord(const journal::Record& rec) override {
    if (violation_) return;
    if (expected_position_ != 0 && rec.position != expected_position_)
      return Fail("position " + N(rec.position) + " follows position " + N(expected_position_ - 1) + ": a gap");
    expected_position_ = rec.position + 1;
    if (rec.type != engine::kEventRecordType) {  // e.g. a state digest: a position, not an event
      prev_end_of_batch_ = rec.end_of_batch;
      return;
    }
    const codecs::DecodeResult d =
        decoder_.Decode({reinterpret_cast<const std::uint8_t*>(rec.payload.data()), rec.payload.size()}, rec.position);
    if (!d.ok()) return Fail("position " + N(rec.position) + " does not decode: " + d.error().ToStatus().ToString());
    const codecs::DecodedEvent& e = d.event();
    Ev ev;
    ev.position = rec.position;
    ev.stream = e.stream_id();
    ev.version = e.stream_version();
    if (const auto* t = e.As<fb::AccountOpened>()) {
      ev.kind = Ev::kOpened, ev.other = t->owner_id(), ev.amount = t->currency();
    } else if (const auto* t = e.As<fb::Deposited>()) {
      ev.kind = Ev::kDeposited, ev.amount = t->amount();
    } else if (const auto* t = e.As<fb::Withdrawn>()) {
      ev.kind = Ev::kWithdrawn, ev.amount = t->amount();
    } else if (const auto* t = e.As<fb::TransferSent>()) {
      ev.kind = Ev::kSent, ev.other = t->to_account(), ev.amount = t->amount();
    } else if (const auto* t = e.As<fb::TransferReceived>()) {
      ev.kind = Ev::kReceived, ev.other = t->from_account(), ev.amount = t->amount();
    } else if (e.As<fb::AccountClosed>() != nullptr) {
      ev.kind = Ev::kClosed;
    } else {
      return Fail("position " + N(rec.position) + " holds an event that is not a bank event");
    }
    ++events_;
    // A command's events are contiguous and share a batch: another id, or a batch boundary,
    // starts the next command.
    if (group_size_ > 0 && (e.command_id() != group_id_ || prev_end_of_batch_)) FinishGroup();
    prev_end_of_batch_ = rec.end_of_batch;
    if (violation_) return;
    if (group_size_ == bk::BankDomain::kMaxEvents)
      return Fail("command " + N(group_id_) + " has more than " + N(bk::BankDomain::kMaxEvents) +
                  " events in a row (position " + N(rec.position) + ")");
    group_id_ = e.command_id();
    group_[group_size_++] = ev;
    Apply(ev);
  }

  // After the walk: the last command.
  void Finish() {
    if (group_size_ > 0 && !violation_) FinishGroup();
  }

  const std::optional<std::string>& violation() const { return violation_; }
  std::uint64_t events() const { return events_; }
  std::uint64_t commands() const { return commands_; }
  std::int64_t net_deposits() const { return net_; }
  const std::vector<Account>& accounts() const { return accounts_; }
  // By ledger index: the journaled command's last position (0: absent), first version, events.
  std::uint64_t last_position(std::size_t i) const { return last_position_[i]; }
  std::uint64_t first_version(std::size_t i) const { return first_version_[i]; }
  std::uint32_t event_count(std::size_t i) const { return event_count_[i]; }

 private:
  void Fail(std::string why) {
    if (!violation_) violation_ = std::move(why);
  }

  // Stream versions, and the money fold (no balance ever below zero).
  void Apply(const Ev& ev) {
    if (ev.stream == 0 || ev.stream >= accounts_.size())
      return Fail("position " + N(ev.position) + ": an event on stream " + N(ev.stream) + ", not one of accounts 1.." +
                  N(accounts_.size() - 1));
    Account& a = accounts_[ev.stream];
    if (ev.version != a.version + 1)
      return Fail("stream " + N(ev.stream) + " goes from version " + N(a.version) + " to " + N(ev.version) +
                  " at position " + N(ev.position) + ": stream versions must be gap-free");
    a.version = ev.version;
    if (ev.kind == Ev::kOpened) {
      if (a.exists) return Fail("account " + N(ev.stream) + " is opened twice (position " + N(ev.position) + ")");
      a.exists = true;
      return;
    }
    if (!a.exists || a.closed)
      return Fail("position " + N(ev.position) + ": " + KindName(ev.kind) + " on account " + N(ev.stream) +
                  ", which is not open");
    switch (ev.kind) {
      case Ev::kDeposited:
        a.balance += ev.amount, net_ += ev.amount;
        break;
      case Ev::kWithdrawn:
        a.balance -= ev.amount, net_ -= ev.amount;
        break;
      case Ev::kSent:
        a.balance -= ev.amount;
        break;
      case Ev::kReceived:
        a.balance += ev.amount;
        break;
      case Ev::kClosed:
        a.closed = true;
        break;
      case Ev::kOpened:
        break;
    }
    if (a.balance < 0)
      Fail("account " + N(ev.stream) + " is overdrawn (" + S(a.balance) + ") at position " + N(ev.position));
  }

  void FinishGroup() {
    const std::size_t n = group_size_;
    group_size_ = 0;
    ++commands_;
    const Ev& last = group_[n - 1];
    const std::optional<std::size_t> idx = ledger_.Index(group_id_);
    if (!idx)
      return Fail("the journal holds command id " + N(group_id_) + " (position " + N(last.position) +
                  "), which no child sent");
    if (last_position_[*idx] != 0)
      return Fail("command " + N(group_id_) + " is journaled twice: at position " + N(last_position_[*idx]) +
                  " and again at position " + N(last.position));
    last_position_[*idx] = last.position;
    first_version_[*idx] = group_[0].version;
    event_count_[*idx] = static_cast<std::uint32_t>(n);
    const bk::Command& cmd = ledger_.EntryAt(*idx)->command;
    if (!Matches(cmd, group_, n))
      return Fail("command " + N(group_id_) + " (" + Describe(cmd) + ") is journaled at position " + N(last.position) +
                  " as " + Describe(group_, n));
  }

  const Ledger& ledger_;
  codecs::Decoder decoder_;
  std::optional<std::string> violation_;
  std::uint64_t expected_position_ = 0;
  std::uint64_t events_ = 0, commands_ = 0;
  std::int64_t net_ = 0;
  std::vector<Account> accounts_;
  std::vector<std::uint64_t> last_position_, first_version_;
  std::vector<std::uint32_t> event_count_;
  std::uint64_t group_id_ = 0;
  Ev group_[bk::BankDomain::kMaxEvents];
  std::size_t group_size_ = 0;
  bool prev_end_of_batch_ = false;
};

codecs::SchemaRegistry BankRegistry() {
  codecs::SchemaRegistryBuilder b;
  bk::BankDomain::RegisterEvents(b);
  return std::move(b).Build().value();  // the built-in bank schema always builds
}

// Every acknowledgement against the journal.
std::optional<std::string> CheckAcks(const Ledger& ledger, const Scan& scan, const VerifyOptions& o,
                                     VerifyReport* rep) {
  for (std::size_t i = 0; i < ledger.capacity(); ++i) {
    const Ledger::Entry* e = ledger.EntryAt(i);
    if (e == nullptr || !e->acked) continue;
    const std::uint64_t id = ledger.IdAt(i);
    const std::uint64_t at = scan.last_position(i);
    if (!e->accepted()) {
      ++rep->rejections_checked;
      if (at != 0)
        return "command " + N(id) + " (" + Describe(e->command) + ") was acknowledged as rejected (" +
               engine::RejectCodeName(e->code) + ", round " + N(static_cast<std::uint64_t>(e->acked_round)) +
               "), yet the journal holds it at position " + N(at);
      continue;
    }
    const char* level = e->durable() ? "durable" : "journaled";
    if (o.synced_position && e->position > *o.synced_position) {
      if (at != 0)
        return "after the power loss, command " + N(id) + " is present at position " + N(at) +
               " although only positions up to " + N(*o.synced_position) + " were synced";
      continue;
    }
    ++rep->acks_checked;
    if (e->durable()) ++rep->durable_acks_checked;
    if (at == 0)
      return "command " + N(id) + " (" + Describe(e->command) + "), acknowledged " + level + " at position " +
             N(e->position) + " in round " + N(static_cast<std::uint64_t>(e->acked_round)) +
             ", is missing from the recovered journal (committed position " + N(rep->committed_position) + ")";
    if (at != e->position || scan.first_version(i) != e->stream_version || scan.event_count(i) != e->event_count)
      return "command " + N(id) + " was acknowledged at position " + N(e->position) + ", stream version " +
             N(e->stream_version) + ", " + N(e->event_count) + " event(s), but the journal holds it at position " +
             N(at) + ", version " + N(scan.first_version(i)) + ", " + N(scan.event_count(i)) + " event(s)";
  }
  return std::nullopt;
}

// The balances read model, caught up to `committed`, against the aggregates.
std::optional<std::string> CheckReadModel(const VerifyOptions& o, const codecs::SchemaRegistry& registry,
                                          std::uint64_t committed, const std::vector<Account>& aggregates) {
  projections::ProjectorThreadOptions po;
  po.name = "crashtest";
  po.journal_directory = o.journal;
  po.registry = &registry;
  po.warn = [](const std::string&) {};
  Result<std::unique_ptr<projections::ProjectorThread>> t = projections::ProjectorThread::Create(std::move(po));
  if (!t.ok()) return "the balances projector cannot open the journal: " + t.status().ToString();
  auto* balances = (*t)->Add<projections::bank::Balances>();
  if (Status s = (*t)->Start(); !s.ok()) return "the balances projector cannot start: " + s.ToString();
  if (Status s = balances->WaitFor(committed, std::chrono::seconds(60)); !s.ok())
    return "the balances projector did not reach position " + N(committed) + ": " + s.ToString();
  for (std::uint64_t id = 1; id < aggregates.size(); ++id) {
    const Account& a = aggregates[id];
    const std::optional<projections::bank::AccountBalance> b = balances->model().Get(id);
    if (!a.exists) {
      if (b) return "the balances read model holds account " + N(id) + ", which has no aggregate";
      continue;
    }
    if (!b) return "the balances read model lacks account " + N(id) + " (aggregate balance " + S(a.balance) + ")";
    const bool closed = b->state == projections::bank::AccountState::kClosed;
    if (b->balance != a.balance || b->version != a.version || closed != a.closed)
      return "account " + N(id) + ": the balances read model says balance " + S(b->balance) + " version " +
             N(b->version) + ", the aggregate balance " + S(a.balance) + " version " + N(a.version);
  }
  (*t)->Stop();
  return std::nullopt;
}

}  // namespace

VerifyReport VerifyJournal(const VerifyOptions& o, const Ledger& ledger) {
  VerifyReport rep;
  const Clock::time_point t0 = Clock::now();
  const std::uint64_t n_accounts = ledger.accounts();

  // 1. Recovery, exactly as a restarting service does it.
  std::vector<Account> aggregates(n_accounts + 1);
  {
    engine::EngineOptions eo;
    eo.journal.directory = o.journal;
    eo.journal.segment_size = std::size_t{o.segment_kib} * 1024;
    eo.journal.durability = o.durability;
    eo.processor.expected_aggregates = static_cast<std::size_t>(n_accounts);
    // No command is submitted here: a small window keeps Open from allocating the default 2^20.
    eo.processor.idempotency_window = 1024;
    eo.log_to_stderr = false;  // the cut tail is in RecoveryInfo
    Result<std::unique_ptr<BankEngine>> opened = BankEngine::Open(eo);
    if (!opened.ok()) {
      rep.violation = "recovery failed: " + opened.status().ToString();
      return rep;
    }
    BankEngine& engine = **opened;
    rep.committed_position = engine.recovery().committed_position;
    for (const journal::TailCut& cut : engine.recovery().tail_cuts) rep.tail_cut_bytes += cut.bytes_cut;
    engine.Stop();
    std::optional<std::string> bad;
    const Status s = engine.ForEachAggregate([&](std::uint64_t id, std::uint64_t version, const bk::Account& a) {
      if (id == 0 || id > n_accounts) {
        if (!bad) bad = "the engine holds an aggregate for account " + N(id) + ", which the workload never opened";
        return;
      }
      aggregates[id] = Account{true, a.closed, a.balance, version};
    });
    if (!s.ok()) bad = "ForEachAggregate after recovery: " + s.ToString();
    if (bad) {
      rep.violation = bad;
      return rep;
    }
  }
  rep.recover_seconds = Since(t0);
  const Clock::time_point t1 = Clock::now();

  if (o.synced_position && rep.committed_position != *o.synced_position) {
    rep.violation = "after the power loss, recovery kept positions up to " + N(rep.committed_position) +
                    ", but exactly up to " + N(*o.synced_position) + " were synced";
    return rep;
  }

  // 2. One walk over the journal: frames, positions, stream versions, commands, money.
  const codecs::SchemaRegistry registry = BankRegistry();
  Scan scan(ledger, registry);
  Result<journal::JournalCheck> check = journal::CheckJournal(o.journal, {}, &scan);
  if (!check.ok() && !check.status().IsNotFound()) {
    rep.violation = "cannot check the journal: " + check.status().ToString();
    return rep;
  }
  scan.Finish();
  rep.events = scan.events();
  rep.commands = scan.commands();
  if (check.ok()) {
    if (check->damage) {
      rep.violation = "the recovered journal is damaged: segment " + check->damage->segment + " offset " +
                      N(check->damage->offset) + " position " + N(check->damage->position) + ": " +
                      check->damage->reason;
      return rep;
    }
    if (check->tail) {
      rep.violation = "the recovered journal still has a torn tail in " + check->tail->segment + " at offset " +
                      N(check->tail->offset) + ": recovery should have set it aside";
      return rep;
    }
    const std::uint64_t last = check->records == 0 ? 0 : check->next_position - 1;
    if (last != rep.committed_position) {
      rep.violation = "recovery reports committed position " + N(rep.committed_position) +
                      " but the journal's records end at position " + N(last);
      return rep;
    }
  }
  if (scan.violation()) {
    rep.violation = scan.violation();
    return rep;
  }

  // 3. Acknowledgements.
  if (auto v = CheckAcks(ledger, scan, o, &rep)) {
    rep.violation = v;
    return rep;
  }

  // 4. Money and aggregates.
  std::int64_t total = 0;
  for (std::uint64_t id = 1; id <= n_accounts; ++id) {
    const Account& f = scan.accounts()[id];
    const Account& a = aggregates[id];
    total += a.balance;
    if (f.exists != a.exists || f.balance != a.balance || f.version != a.version || f.closed != a.closed) {
      rep.violation = "account " + N(id) + ": the journal folds to balance " + S(f.balance) + " version " +
                      N(f.version) + (f.exists ? "" : " (never opened)") +
                      ", the engine's aggregate after recovery is " + S(a.balance) + " version " + N(a.version) +
                      (a.exists ? "" : " (absent)");
      return rep;
    }
  }
  rep.total_balance = total;
  if (total != scan.net_deposits()) {
    rep.violation = "money is not conserved: the balances sum to " + S(total) +
                    ", deposits - withdrawals journaled = " + S(scan.net_deposits());
    return rep;
  }

  // 5. The read model.
  if (auto v = CheckReadModel(o, registry, rep.committed_position, aggregates)) {
    rep.violation = v;
    return rep;
  }
  rep.verify_seconds = Since(t1);
  return rep;
}

}  // namespace rill::tools::crashtest
