// rill-bank-service: the bank ledger as a TCP service (server.h). Runs until SIGINT/SIGTERM,
// then stops cleanly (commands in flight get their outcome).
#include <csignal>
#include <cstdio>
#include <string>

#include "rill/examples/bank_service/args.h"
#include "rill/examples/bank_service/server.h"

namespace {

constexpr const char* kUsage =
    "usage: rill-bank-service --data DIR [--address 127.0.0.1] [--port 7070] [--io-threads 1]\n"
    "                         [--durability none|batch|interval] [--max-frame BYTES] [--projector-cpu N]\n"
    "                         [--salvage]\n"
    "  DIR holds journal/ and checkpoints/ (created if missing; reopened and recovered if present).\n"
    "  --port 0 picks a free port; the first line printed says which.\n"
    "  --salvage: if the journal is damaged, keep its valid prefix and move the damaged part aside\n"
    "  (never deleted), reporting how many acknowledged events could not be kept. Without it,\n"
    "  damage to acknowledged (durable) data stops the start-up with exit 1.\n"
    "Exit codes: 0 stopped by SIGINT/SIGTERM, 1 cannot start, 2 usage error.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace rill::examples::bank_service;
  Args args("rill-bank-service", argc, argv);
  ServiceOptions o;
  std::uint64_t port = 7070, io_threads = 1, max_frame = kDefaultMaxFrameBytes, cpu = 0;
  std::string durability = "none";
  if (args.Has("--help") || args.Has("-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  // Each query prints its own one-line error; && stops at the first.
  const bool ok = args.Text("--data", o.data_directory) && args.Text("--address", o.address) &&
                  args.Number("--port", port, 0, 65535) && args.Number("--io-threads", io_threads, 1, 256) &&
                  args.Number("--max-frame", max_frame, kMinFrameBytes, 1u << 30) &&
                  args.Choice("--durability", durability, {"none", "batch", "interval"}) &&
                  args.Number("--projector-cpu", cpu, 0, 4096);
  const bool projector_cpu = ok && args.Has("--projector-cpu");
  o.salvage = ok && args.Has("--salvage");
  if (!ok || !args.Finish()) return 2;
  if (o.data_directory.empty()) {
    args.Fail("--data is required", "give the directory for journal/ and checkpoints/");
    return 2;
  }
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
  sigwait(&stop_signals, &signal);
  (*service)->Stop();
  const ServiceStats s = (*service)->stats();
  std::printf("rill-bank-service stopped (%s): %llu connections, %llu requests, %llu error replies\n",
              signal == SIGINT ? "SIGINT" : "SIGTERM", static_cast<unsigned long long>(s.connections),
              static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.error_replies));
  return 0;
}
