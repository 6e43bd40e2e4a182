// rill/replication/nats_internal.h: what nats_client.cpp and nats_publisher.cpp share, cnats
// types included. Not part of the public API: include nats_client.h instead.
//
// Thread safety: NatsClient::Impl's cnats handles are thread-safe (cnats locks them); kv_ (the
// cache of opened KV buckets) is guarded by kv_mu_.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "rill/replication/nats_client.h"

namespace rill::replication {

struct NatsClient::Impl {
  std::string urls;
  ConnectOptions options;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::mutex kv_mu;
  std::map<std::string, kvStore*> kv;  // bucket -> opened store; destroyed with the client

  ~Impl();
};

namespace nats_detail {

inline std::int64_t ToMillis(std::int64_t ns) { return ns <= 0 ? 1 : (ns + 999'999) / 1'000'000; }

// "<what>: <cnats status text>[: <cnats' last error>][ (JetStream error <jerr>)]", as a Status
// whose code fits: TimedOut, NotFound, Unavailable (connection trouble and anything unknown).
Status FromNats(natsStatus s, std::string_view what, jsErrCode jerr = static_cast<jsErrCode>(0));

// Copies a message's headers and payload.
StoredMessage CopyMessage(natsMsg* msg, std::uint64_t seq);

// A message for subject with headers, msg-id and payload; nullptr (and *status set) on failure.
natsMsg* BuildMessage(const std::string& subject, const NatsHeaders& headers, std::span<const std::byte> bytes,
                      Status* status);

PublishError Classify(natsStatus s, int jerr);

// OK while the connection is up; else Unavailable "<what>: not connected to NATS at <urls>
// (<reconnecting|closed|...>; last error: <cnats'>)". Checked before a request or a publish:
// while reconnecting cnats would buffer it and let the caller wait for a timeout that only
// says "Timeout", when the cause (every server down) is known at once.
Status CheckConnected(const NatsClient::Impl& impl, std::string_view what);

}  // namespace nats_detail
}  // namespace rill::replication
