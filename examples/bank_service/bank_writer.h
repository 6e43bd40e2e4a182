// rill/examples/bank_service/bank_writer.h: what the bank service holds while it writes its
// journal: the engine, the Balances read model on a projector thread, and the AppliedView
// queries wait on. One object per writer period: a standalone service opens one at start; a
// replicated one (--nats, service_node.h) opens one at each takeover and stops it when the
// node leaves the writer role, so the three are replaced together.
//
//   WriterOptions o;
//   o.journal_directory = dir + "/journal";
//   o.replication = rep;                                   // from the Node's open_writer, or null
//   auto w = BankWriter::Open(o);                          // replays the whole journal
//   auto w = BankWriter::Open(o, std::move(hot));          // a standby's state: replays the rest
//   co_await async_submit((*w)->engine(), cmd, meta, ack, use_awaitable);
//   (*w)->Stop("fenced");                                  // engine, projector, view; idempotent
//
// Lifetime: shared. The server hands a copy to each request it submits, so a writer stopped
// while a request is in flight stays allocated until that request has its outcome (the engine
// answers kShutdown after Stop); whoever drops the last copy destroys it.
// Thread safety: Open from one thread; engine()/view()/balances() from any; Stop from any, once
// effective (a mutex: cold).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "rill/base/result.h"
#include "rill/engine/applied_view.h"
#include "rill/engine/engine.h"
#include "rill/engine/hot_standby.h"
#include "rill/engine/replication_progress.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/journal/options.h"
#include "rill/projections/projector_thread.h"

namespace rill::examples::bank_service {

using BankEngine = engine::Engine<bank::BankDomain>;
using BankHotStandby = engine::HotStandby<bank::BankDomain>;

struct WriterOptions {
  std::string journal_directory;     // required
  std::string checkpoint_directory;  // the projector's checkpoints; "" = none (replays the journal)
  journal::Durability durability = journal::Durability::kNone;
  bool salvage = false;
  std::size_t ring_size = 4096;
  int projector_cpu = -1;
  bool log_to_stderr = true;
  // The replicator shipping this journal (replication::Node's open_writer hands it over);
  // null: no replication, kReplicated acknowledgements are refused by the engine.
  engine::ReplicationProgress* replication = nullptr;
};

// The engine's options for `options`: the writer's, and a hot standby's on the same journal
// (its processor must be sized like the writer's that takes its state).
engine::EngineOptions BankEngineOptions(const WriterOptions& options);

class BankWriter {
 public:
  // Opens (recovers) the engine on the journal and starts the projector behind the view. With
  // `hot` (a standby's state, engine/hot_standby.h), the engine takes its aggregates and
  // idempotency window and replays only the journal after its position; the engine's refusal
  // (the standby failed, or is ahead of the journal) is returned.
  static Result<std::shared_ptr<BankWriter>> Open(const WriterOptions& options,
                                                  std::unique_ptr<BankHotStandby> hot = nullptr);
  ~BankWriter();  // Stop("")
  BankWriter(const BankWriter&) = delete;
  BankWriter& operator=(const BankWriter&) = delete;

  // Stops the engine (commands in flight get their outcome, or kShutdown; the journal is
  // closed when it returns), the projector (a final checkpoint when it has a directory) and
  // closes the view with `why` (waits get Unavailable). Idempotent.
  void Stop(const std::string& why);

  BankEngine& engine() noexcept { return *engine_; }
  engine::AppliedView& view() noexcept { return view_; }
  const projections::bank::Balances& balances() const noexcept { return balances_->model(); }
  std::uint64_t balances_position() const noexcept { return balances_->applied_position(); }

 private:
  BankWriter() = default;
  // Destruction order (reverse of declaration): the view outlives the engine and the
  // projector (which hold it), the engine's registry outlives the projector.
  engine::AppliedView view_{"bank.balances"};
  std::unique_ptr<BankEngine> engine_;
  std::unique_ptr<projections::ProjectorThread> projector_;
  projections::TypedProjector<projections::bank::Balances>* balances_ = nullptr;
  std::mutex stop_mu_;  // cold: Stop only
  bool stopped_ = false;
};

}  // namespace rill::examples::bank_service
