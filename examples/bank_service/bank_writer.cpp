// The bank service's writer period (bank_writer.h): engine, projector, view.
#include "rill/examples/bank_service/bank_writer.h"

namespace rill::examples::bank_service {

engine::EngineOptions BankEngineOptions(const WriterOptions& options) {
  engine::EngineOptions eo;
  eo.journal.directory = options.journal_directory;
  eo.journal.durability = options.durability;
  eo.journal.salvage = options.salvage;
  eo.ring_size = options.ring_size;
  eo.log_to_stderr = options.log_to_stderr;
  eo.replication = options.replication;
  eo.counters_program = "rill-bank-service";  // DIR/counters: rill top, rill metrics
  return eo;
}

Result<std::shared_ptr<BankWriter>> BankWriter::Open(const WriterOptions& options,
                                                     std::unique_ptr<BankHotStandby> hot) {
  std::shared_ptr<BankWriter> w(new BankWriter());
  const engine::EngineOptions eo = BankEngineOptions(options);
  Result<std::unique_ptr<BankEngine>> opened = hot ? BankEngine::Open(eo, std::move(hot)) : BankEngine::Open(eo);
  if (!opened.ok()) return opened.status().WithContext("bank service: opening the engine");
  w->engine_ = std::move(opened).value();

  projections::ProjectorThreadOptions po;
  po.name = "bank-balances";
  po.journal_directory = options.journal_directory;
  po.registry = &w->engine_->registry();
  po.cpu = options.projector_cpu;
  po.checkpoint_directory = options.checkpoint_directory;
  po.counters = w->engine_->counters_file();
  Result<std::unique_ptr<projections::ProjectorThread>> created = projections::ProjectorThread::Create(std::move(po));
  if (!created.ok()) return created.status().WithContext("bank service: creating the projector");
  w->projector_ = std::move(created).value();
  projections::ProjectorOptions balances_options;
  BankWriter* self = w.get();  // the projector stops before the writer is freed (Stop, ~BankWriter)
  balances_options.on_applied = [self](std::uint64_t p) { self->view_.Advance(p); };
  balances_options.on_halted = [self](std::uint64_t p, const std::string& why) { self->view_.Halt(p, why); };
  w->balances_ = w->projector_->Add<projections::bank::Balances>(std::move(balances_options));
  RILL_RETURN_IF_ERROR(w->projector_->Start());
  // A checkpoint may have put the model ahead of any batch the callback has reported yet.
  w->view_.Advance(w->balances_->applied_position());
  return w;
}

BankWriter::~BankWriter() { Stop("the bank service's writer is closing"); }

void BankWriter::Stop(const std::string& why) {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  if (engine_) engine_->Stop();
  if (projector_) projector_->Stop();
  view_.Close(why.empty() ? "the bank service's writer is closing" : why);
}

}  // namespace rill::examples::bank_service
