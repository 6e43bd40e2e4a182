// rill/examples/bank_service/service_node.h: the bank service as its shard's writer or hot
// standby (rill-bank-service --nats): a replication::Node (replication/standby.h) whose
// open_writer opens the service's writer (BankService::OpenWriter: the engine on the journal
// with EngineOptions::replication, the projector, the view) and whose close_writer stops it.
//
//   RoleBoard board;                                          // what a refusal says
//   ServiceOptions so; so.writer_from_node = true; so.min_ack_replicated = true;
//   so.not_writer_message = [&board] { return board.NotWriterMessage(); };
//   auto service = BankService::Start(so);
//   ServiceNodeOptions no; no.journal_directory = dir + "/journal"; no.nats_urls = urls;
//   no.app = "bank"; no.shard = "0"; no.holder = "host-a";
//   auto node = ServiceNode::Start(**service, board, no);     // standby or writer, by the lease
//   ...
//   (*node)->Stop();  (*service)->Stop();                     // the node first: it closes the writer
//
// Role changes are logged on stderr as one line each ("rill-bank-service: role: ..."). While
// not the writer, a watcher thread reads the lease every 500 ms so a refusal can name the
// writer ("not the writer: this node is a standby; the writer is host-b (lease epoch 3)").
//
// The takeover is HOT: while a standby, the node keeps an engine::HotStandby on the journal the
// follower writes (BankService::StartHotStandby, at each on_standby), and open_writer hands it
// to BankService::OpenWriter, whose engine replays only what it had not applied. If the hot
// state cannot start, the takeover replays the whole journal (logged).
// Thread safety: Start/Stop from the owner; role()/final_error() and RoleBoard from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "rill/base/result.h"
#include "rill/examples/bank_service/server.h"
#include "rill/replication/standby.h"

namespace rill::examples::bank_service {

// This node's role and the writer the lease names, for the NotWriter refusals (cold: a mutex).
class RoleBoard {
 public:
  void SetRole(std::string role);      // "starting", "standby", "writer", "stopped: ..."
  void SetWriter(std::string writer);  // "" = unknown or none
  std::string NotWriterMessage() const;

 private:
  mutable std::mutex mu_;
  std::string role_ = "starting";
  std::string writer_;
};

struct ServiceNodeOptions {
  std::string journal_directory;  // the service's <data>/journal
  std::string nats_urls, app = "bank", shard = "0", holder;
  std::int64_t lease_ttl_ns = 3'000'000'000;
  int replicas = 3;  // of the stream and the lease bucket
  bool log_to_stderr = true;
};

class ServiceNode {
 public:
  // InvalidArgument for a missing option; the node then runs on its own thread.
  static Result<std::unique_ptr<ServiceNode>> Start(BankService& service, RoleBoard& board,
                                                    const ServiceNodeOptions& options);
  ~ServiceNode();  // Stop()
  ServiceNode(const ServiceNode&) = delete;
  ServiceNode& operator=(const ServiceNode&) = delete;

  // Stops the node (close_writer closes the service's writer; the lease is not released, it
  // expires) and the watcher. Idempotent.
  void Stop();
  replication::NodeRole role() const;
  Status final_error() const;  // non-OK once the node gave up
  std::string state() const;

  class Impl;

 private:
  explicit ServiceNode(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rill::examples::bank_service
