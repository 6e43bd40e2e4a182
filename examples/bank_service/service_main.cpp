// rill-bank-service: the bank ledger as a TCP service (server.h). Runs until SIGINT/SIGTERM,
// then stops cleanly (commands in flight get their outcome). With --nats, as its shard's
// writer or hot standby (service_node.h).
#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "rill/examples/bank_service/args.h"
#include "rill/examples/bank_service/server.h"
#ifdef RILL_BANK_SERVICE_NODE
#include "rill/examples/bank_service/service_node.h"
#endif

namespace {

constexpr const char* kUsage =
    "usage: rill-bank-service --data DIR [--address 127.0.0.1] [--port 7070] [--io-threads 1]\n"
    "                         [--durability none|batch|interval] [--max-frame BYTES] [--projector-cpu N]\n"
    "                         [--salvage]\n"
    "                         [--nats URLS --app NAME --shard S --holder NAME [--lease-ttl-ms 3000]\n"
    "                          [--min-ack replicated|journaled]]\n"
    "  DIR holds journal/ and checkpoints/ (created if missing; reopened and recovered if present).\n"
    "  --port 0 picks a free port; the first line printed says which.\n"
    "  --salvage: if the journal is damaged, keep its valid prefix and move the damaged part aside\n"
    "  (never deleted), reporting how many acknowledged events could not be kept. Without it,\n"
    "  damage to acknowledged (durable) data stops the start-up with exit 1.\n"
    "  --nats: replicate the journal to NATS JetStream (URLS comma-separated) as the writer of\n"
    "  <app>.<shard> or its standby, whichever the lease makes it (--holder: this node's unique\n"
    "  name). Commands are served only while this node is the writer; a standby answers each\n"
    "  request with Error{NotWriter} naming its role and the writer. Role changes go to stderr.\n"
    "  --min-ack (with --nats, default replicated): journaled and durable acknowledgements are\n"
    "  raised to replicated (a standby's takeover keeps exactly what was replicated); journaled\n"
    "  leaves them as the client asks.\n"
    "Exit codes: 0 stopped by SIGINT/SIGTERM, 1 cannot start, 2 usage error.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace rill::examples::bank_service;
  Args args("rill-bank-service", argc, argv);
  ServiceOptions o;
  std::uint64_t port = 7070, io_threads = 1, max_frame = kDefaultMaxFrameBytes, cpu = 0;
  std::string durability = "none";
  std::string nats, app, shard, holder, min_ack = "replicated";
  std::uint64_t lease_ttl_ms = 3000;
  if (args.Has("--help") || args.Has("-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  // Each query prints its own one-line error; && stops at the first.
  const bool ok = args.Text("--data", o.data_directory) && args.Text("--address", o.address) &&
                  args.Number("--port", port, 0, 65535) && args.Number("--io-threads", io_threads, 1, 256) &&
                  args.Number("--max-frame", max_frame, kMinFrameBytes, 1u << 30) &&
                  args.Choice("--durability", durability, {"none", "batch", "interval"}) &&
                  args.Number("--projector-cpu", cpu, 0, 4096) && args.Text("--nats", nats) &&
                  args.Text("--app", app) && args.Text("--shard", shard) && args.Text("--holder", holder) &&
                  args.Number("--lease-ttl-ms", lease_ttl_ms, 100, 3'600'000) &&
                  args.Choice("--min-ack", min_ack, {"replicated", "journaled"});
  const bool gave_min_ack = ok && args.Has("--min-ack");
  const bool gave_ttl = ok && args.Has("--lease-ttl-ms");
  const bool projector_cpu = ok && args.Has("--projector-cpu");
  o.salvage = ok && args.Has("--salvage");
  if (!ok || !args.Finish()) return 2;
  if (o.data_directory.empty()) {
    args.Fail("--data is required", "give the directory for journal/ and checkpoints/");
    return 2;
  }
  if (nats.empty()) {
    const char* node_flag = !app.empty()      ? "--app"
                            : !shard.empty()  ? "--shard"
                            : !holder.empty() ? "--holder"
                            : gave_ttl        ? "--lease-ttl-ms"
                            : gave_min_ack    ? "--min-ack"
                                              : nullptr;
    if (node_flag != nullptr) {
      args.Fail(std::string(node_flag) + " is only for a replicated service", "give --nats URLS too, or drop it");
      return 2;
    }
  } else if (app.empty() || shard.empty() || holder.empty()) {
    args.Fail(std::string(app.empty()     ? "--app"
                          : shard.empty() ? "--shard"
                                          : "--holder") +
                  " is required with --nats",
              "give --app NAME --shard S --holder NAME (the holder unique per node)");
    return 2;
  }
#ifndef RILL_BANK_SERVICE_NODE
  if (!nats.empty()) {
    args.Fail("--nats: this build has no replication (RILL_BUILD_REPLICATION was off)", "rebuild with it on");
    return 2;
  }
#endif
  if (durability == "batch") {
    o.durability = rill::journal::Durability::kBatch;
  } else if (durability == "interval") {
    o.durability = rill::journal::Durability::kInterval;
  } else {
    o.durability = rill::journal::Durability::kNone;
  }
  o.port = static_cast<std::uint16_t>(port);
  o.io_threads = static_cast<int>(io_threads);
  o.max_frame_bytes = static_cast<std::uint32_t>(max_frame);
  o.projector_cpu = projector_cpu ? static_cast<int>(cpu) : -1;
#ifdef RILL_BANK_SERVICE_NODE
  RoleBoard board;  // outlives the service, whose refusals read it
  if (!nats.empty()) {
    o.writer_from_node = true;
    o.min_ack_replicated = min_ack == "replicated";
    o.not_writer_message = [&board] { return board.NotWriterMessage(); };
  }
#endif

  // Block the stop signals before any thread starts, so every thread inherits the mask and
  // only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto service = BankService::Start(o);
  if (!service.ok()) {
    std::fprintf(stderr, "rill-bank-service: %s\n", service.status().ToString().c_str());
    return 1;
  }
  std::printf("rill-bank-service listening on %s:%u (data in %s)\n", o.address.c_str(), (*service)->port(),
              o.data_directory.c_str());
  std::fflush(stdout);
  int signal = 0;
#ifdef RILL_BANK_SERVICE_NODE
  std::unique_ptr<ServiceNode> node;
  if (!nats.empty()) {
    ServiceNodeOptions no;
    no.journal_directory = o.data_directory + "/journal";
    no.nats_urls = nats;
    no.app = app;
    no.shard = shard;
    no.holder = holder;
    no.lease_ttl_ns = static_cast<std::int64_t>(lease_ttl_ms) * 1'000'000;
    auto started = ServiceNode::Start(**service, board, no);
    if (!started.ok()) {
      std::fprintf(stderr, "rill-bank-service: %s\n", started.status().ToString().c_str());
      return 1;
    }
    node = std::move(started).value();
    // Wait for a stop signal, looking every 200 ms whether the node gave up (it said why on
    // stderr): then the service cannot write any more, so it exits 1 rather than refuse forever.
    const timespec tick{0, 200'000'000};
    for (;;) {
      signal = sigtimedwait(&stop_signals, nullptr, &tick);
      if (signal > 0) break;
      if (node->role() == rill::replication::NodeRole::kStopped) {
        std::fprintf(stderr, "rill-bank-service: the replication node stopped: %s\n",
                     node->final_error().ToString().c_str());
        node->Stop();
        (*service)->Stop();
        return 1;
      }
    }
    node->Stop();  // closes the writer (close_writer) before the service stops
  } else {
    sigwait(&stop_signals, &signal);
  }
#else
  sigwait(&stop_signals, &signal);
#endif
  (*service)->Stop();
  const ServiceStats s = (*service)->stats();
  std::printf("rill-bank-service stopped (%s): %llu connections, %llu requests, %llu error replies\n",
              signal == SIGINT ? "SIGINT" : "SIGTERM", static_cast<unsigned long long>(s.connections),
              static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.error_replies));
  return 0;
}
