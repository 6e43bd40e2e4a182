// rill/replication/nats_stream_port.h: StreamPort (stream_port.h) over NATS JetStream, for the
// replicator and the follower: one NatsClient, an AsyncPublisher for pipelined publishes, an
// ordered subscription for reading, and the schema KV bucket (message_format.h names).
//
//   NatsPortConfig c{.urls = urls, .app = "bank", .shard = "0"};
//   std::unique_ptr<StreamPort> port = MakeNatsStreamPort(c);
//   RILL_RETURN_IF_ERROR(port->Connect());   // Unavailable: retry later
//
// Thread safety: one thread drives the port (StreamPort's rule).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "rill/replication/stream_port.h"

namespace rill::replication {

struct NatsPortConfig {
  std::string urls;
  std::string client_name = "rill";
  std::string app, shard;
  bool create = true;  // create the stream and the bucket when missing (else they must exist)
  int replicas = 3;
  std::int64_t duplicate_window_ns = 120'000'000'000;
  std::size_t max_msg_size = 1u << 20;
  std::size_t window = 32;  // publishes in flight
};

std::unique_ptr<StreamPort> MakeNatsStreamPort(const NatsPortConfig& config);

}  // namespace rill::replication
