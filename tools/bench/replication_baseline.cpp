// The raw async-publish ceiling: see replication_baseline.h.
#include "rill/tools/bench/replication_baseline.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "rill/replication/nats_client.h"

namespace rill::tools {

Result<RawPublishReport> MeasureRawPublish(const RawPublishOptions& o) {
  auto client = replication::NatsClient::Connect(o.urls, {.name = "rill-bench-raw-publish"});
  if (!client.ok()) return client.status();
  const std::string subject = "rill.bench.raw." + o.stream;
  replication::StreamSpec spec;
  spec.name = o.stream;
  spec.subject = subject;
  spec.replicas = o.replicas;
  spec.max_msg_size = static_cast<std::int32_t>(o.message_bytes + 4096);
  (void)(*client)->DeleteStream(o.stream);  // a leftover of an interrupted run
  if (Status s = (*client)->EnsureStream(spec); !s.ok()) return s.WithContext("raw publish baseline");

  replication::AsyncPublisher publisher(**client, {.window = o.window});
  const std::vector<std::byte> payload(o.message_bytes, std::byte{0x5a});
  std::vector<replication::PublishCompletion> done;
  RawPublishReport report;
  std::uint64_t next = 1;
  Status failure;
  const auto start = std::chrono::steady_clock::now();
  const auto end =
      start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(o.seconds));
  while (std::chrono::steady_clock::now() < end && failure.ok()) {
    while (publisher.in_flight() < o.window) {
      const std::string id = o.stream + "/" + std::to_string(next);
      if (!publisher.Publish(subject, id, 0, {}, payload, next).ok()) break;
      ++next;
    }
    done.clear();
    publisher.Poll(&done, 100'000'000);
    for (const auto& c : done) {
      if (c.ok) {
        ++report.messages;
      } else if (failure.ok()) {
        failure = Status::Unavailable("raw publish baseline: a publish failed: " + c.text);
      }
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The latency floor: one message in flight at a time, timed from publish to ack (after the
  // throughput phase's last acks).
  for (const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       publisher.in_flight() > 0 && std::chrono::steady_clock::now() < until;) {
    done.clear();
    publisher.Poll(&done, 100'000'000);
  }
  const std::vector<std::byte> small(o.round_trip_bytes, std::byte{0x5b});
  const auto rt_end =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(o.round_trip_seconds));
  while (failure.ok() && std::chrono::steady_clock::now() < rt_end && publisher.in_flight() == 0) {
    const auto sent = std::chrono::steady_clock::now();
    const std::string id = o.stream + "/" + std::to_string(next);
    if (Status s = publisher.Publish(subject, id, 0, {}, small, next++); !s.ok()) {
      failure = s.WithContext("raw publish baseline: round trips");
      break;
    }
    done.clear();
    while (done.empty() && std::chrono::steady_clock::now() - sent < std::chrono::seconds(5))
      publisher.Poll(&done, 100'000'000);
    if (done.empty() || !done.front().ok) {
      failure = Status::Unavailable("raw publish baseline: a round trip " +
                                    (done.empty() ? std::string("got no ack within 5 s") : done.front().text));
      break;
    }
    report.round_trip_ns.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - sent).count());
  }
  (void)publisher.AbandonAll();
  (void)(*client)->DeleteStream(o.stream);
  if (!failure.ok()) return failure;
  report.messages_per_s = report.seconds > 0 ? static_cast<double>(report.messages) / report.seconds : 0;
  report.megabytes_per_s = report.messages_per_s * static_cast<double>(o.message_bytes) / 1e6;
  return report;
}

}  // namespace rill::tools
