// rill/examples/bank_service/server.h: the bank ledger as a TCP service: an embedded
// Engine<BankDomain>, a Balances read model on a projector thread for queries, and an Asio
// server whose connections are C++20 coroutines speaking protocol.fbs frames.
//
//   rill::examples::bank_service::ServiceOptions o;
//   o.data_directory = "/var/lib/bank";            // journal/ and checkpoints/ below it
//   o.port = 7070;                                 // 0: an ephemeral port, see port()
//   auto service = rill::examples::bank_service::BankService::Start(o);
//   if (!service.ok()) return die(service.status());
//   std::printf("listening on 127.0.0.1:%u\n", (*service)->port());
//   ...
//   (*service)->Stop();                            // or the destructor
//
// Per connection, one request at a time: read a frame, verify it, submit the command with
// rill::engine::async_submit (or answer a balance query from the read model, waiting with
// async_wait_for for a min_position), write the reply. A malformed frame gets an Error reply;
// one whose length cannot be trusted (too short, too large) also closes its connection.
// Nothing a client sends can crash the server or touch another connection.
// It binds to 127.0.0.1 unless told otherwise.
//
// Writer or standby (ServiceOptions::writer_from_node, the --nats mode of rill-bank-service,
// service_node.h): the service starts WITHOUT a writer and serves every request with an
// Error{NotWriter} naming its role until a replication::Node calls OpenWriter (it won the
// lease: the engine, projector and view are opened on the journal, replaying it); CloseWriter
// (fenced, lease lost, stopping) stops them and the refusals start again. The current writer
// (bank_writer.h) is a std::shared_ptr in a std::atomic: each REQUEST loads it once (a
// request is a network round trip; the engine's writer thread never sees this) and keeps its
// copy until its reply is built, so CloseWriter running while a connection submits leaves
// that connection an engine that answers kShutdown, never a freed one. The last copy frees it.
//
// Thread safety: Start/Stop from one controlling thread; the getters from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "rill/base/result.h"
#include "rill/base/status.h"
#include "rill/engine/applied_view.h"
#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/examples/bank_service/bank_writer.h"
#include "rill/examples/bank_service/protocol.h"
#include "rill/journal/options.h"

namespace rill::examples::bank_service {

struct ServiceOptions {
  std::string data_directory;  // required: <dir>/journal and <dir>/checkpoints
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: ephemeral
  int io_threads = 1;      // threads running the io_context; connections are strands
  std::uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
  journal::Durability durability = journal::Durability::kNone;
  std::size_t ring_size = 4096;
  int projector_cpu = -1;  // pin the balances projector; -1: no pinning
  // On a damaged journal: keep the valid prefix and move the damaged part aside (never deleted),
  // reporting how many acknowledged events could not be kept (journal::WriterOptions::salvage).
  bool salvage = false;
  bool log_to_stderr = true;  // engine start-up reports, accept errors
  // No writer at Start: OpenWriter opens it (a replication::Node's open_writer). Meanwhile
  // requests get Error{NotWriter} with not_writer_message(). The projector keeps no
  // checkpoints then: a takeover's reconcile may move the journal's tail aside, which would
  // leave a checkpoint ahead of the journal; it replays the journal at each OpenWriter instead.
  bool writer_from_node = false;
  std::function<std::string()> not_writer_message;  // "" or unset: a generic one
  // Acknowledge no command below `replicated`: journaled -> replicated, durable ->
  // replicated+durable, applied -> replicated, then the view (accepted stays: the client asked
  // for nothing kept). For a replicated service, where a takeover keeps exactly what was
  // replicated (replication/README.md).
  bool min_ack_replicated = false;
};

// Relaxed counters: informational.
struct ServiceStats {
  std::uint64_t connections = 0;        // accepted so far
  std::uint64_t requests = 0;           // frames answered (including error replies)
  std::uint64_t error_replies = 0;      // Error replies sent
  std::uint64_t closed_bad_frames = 0;  // connections closed for an untrustworthy length
};

class BankService {
 public:
  // Opens (recovers) the engine, starts the projector, binds, and starts the io threads.
  static Result<std::unique_ptr<BankService>> Start(ServiceOptions options);
  ~BankService();  // Stop()
  BankService(const BankService&) = delete;
  BankService& operator=(const BankService&) = delete;

  // Stops accepting and closes every connection, stops the engine (commands in flight get
  // their outcome, or kShutdown), the projector and the view, then joins the io threads.
  // Idempotent.
  void Stop();

  // Opens the writer on `journal_directory` with `replication` (valid until CloseWriter
  // returns) and starts serving commands. FailedPrecondition if one is open or the service
  // stopped. From the Node's control thread (or Start).
  // With `hot` (from StartHotStandby on the same journal), the engine takes the standby's
  // state and replays only the rest.
  Status OpenWriter(const std::string& journal_directory, engine::ReplicationProgress* replication,
                    std::unique_ptr<BankHotStandby> hot = nullptr);
  // A standby's state kept up to date from `journal_directory` (which a follower writes), sized
  // like this service's writer, for OpenWriter at a takeover (engine/hot_standby.h).
  Result<std::unique_ptr<BankHotStandby>> StartHotStandby(const std::string& journal_directory) const;
  // Stops serving commands and stops the writer (bank_writer.h); the journal is closed when it
  // returns. No-op without one.
  void CloseWriter(const std::string& why);
  bool writing() const noexcept;

  std::uint16_t port() const noexcept;
  ServiceStats stats() const noexcept;
  // The current writer's (REQUIRES writing(); a replicated service may replace it at any time).
  BankEngine& engine() noexcept;
  engine::AppliedView& balances_view() noexcept;
  const projections::bank::Balances& balances() const noexcept;

 private:
  struct Impl;
  explicit BankService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rill::examples::bank_service
