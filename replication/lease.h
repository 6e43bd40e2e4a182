// rill/replication/lease.h: who may write a shard, as a lease in a JetStream KV bucket
// (SCALE-OUT.md 3c). Bucket RILL_<app>_<shard>_lease (TTL = ttl), key "writer", value
// "<holder> <epoch>". A holder that stops renewing loses the key when the bucket's TTL ages it
// out, so a dead writer frees the shard without anyone releasing anything.
//
//   auto lease = rill::replication::Lease::Open({.nats_urls = urls, .app = "bank", .shard = "0"});
//   if (!lease.ok()) return lease.status();
//   Status s = (*lease)->TryAcquire("node-a", epoch);     // FailedPrecondition: held by another
//   (*lease)->StartRenewal([](const Status& why) { /* stop writing */ });   // every ttl/3
//
// The lease gives LIVENESS only (someone writes after a crash, usually one writer at a time).
// SAFETY is the stream's: every publish carries the expected last sequence and msg-id, so a
// writer whose lease expired while it was paused is fenced at its next publish, whatever the
// lease says (replicator.h). Clock skew or a slow renewal can therefore cost availability,
// never data.
//
// Thread safety: all methods from any thread (a mutex); the loss callback runs on the renewal
// thread, once, and must not call StopRenewal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "rill/base/result.h"

namespace rill::replication {

class NatsClient;

struct LeaseOptions {
  std::string nats_urls;
  std::string app, shard;
  std::int64_t ttl_ns = 3'000'000'000;  // the bucket's TTL: a key not renewed for this long vanishes
  int replicas = 3;                     // of the bucket (when it is created)
  std::string client_name;              // "" = rill-lease-<app>-<shard>
};

struct LeaseHolder {
  std::string holder;
  std::uint64_t epoch = 0;
  std::uint64_t revision = 0;  // the KV revision (the compare-and-set token)
};

std::string LeaseBucketName(std::string_view app, std::string_view shard);  // RILL_<app>_<shard>_lease
inline constexpr std::string_view kLeaseKey = "writer";

class Lease {
 public:
  // Connects and makes sure the bucket exists (created with TTL = ttl_ns; an existing bucket
  // keeps its own TTL). Unavailable when the cluster cannot be reached.
  static Result<std::unique_ptr<Lease>> Open(const LeaseOptions& options);
  ~Lease();  // StopRenewal(); never releases the key (it expires)
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // Takes the free lease (KvCreate). A key that already names this holder (a restart within
  // the TTL) is taken over with a compare-and-set on its revision. FailedPrecondition naming
  // the holder when another one holds it.
  Status TryAcquire(const std::string& holder, std::uint64_t epoch);
  // Compare-and-set on the last revision. FailedPrecondition once the lease is lost (another
  // revision, or the key expired); transient errors (Unavailable, TimedOut) as they come.
  Status Renew();
  // Changes the epoch recorded in the held lease (a renewal with the new value).
  Status SetEpoch(std::uint64_t epoch);
  // The current holder as the bucket says; NotFound when the lease is free.
  Result<LeaseHolder> Holder();

  // Renews every ttl/3 on a thread. on_loss runs once when the lease is lost: a lost
  // compare-and-set, or no successful renewal for a whole ttl (the key has expired by then).
  void StartRenewal(std::function<void(const Status&)> on_loss);
  void StopRenewal();  // joins the thread; the key stays until it expires

  bool held() const;            // acquired and not known lost
  std::uint64_t epoch() const;  // of the held lease (0: none)
  std::int64_t ttl_ns() const noexcept { return options_.ttl_ns; }
  // Test hook: the renewal thread keeps running but skips renewals (a zombie writer that
  // does not know it lost the lease).
  void SetRenewalPausedForTest(bool paused) { paused_for_test_.store(paused); }

 private:
  explicit Lease(LeaseOptions options, std::unique_ptr<NatsClient> client);
  Status Put(std::uint64_t epoch);  // KvUpdate with the held revision; under mu_
  void RenewLoop(std::function<void(const Status&)> on_loss);

  const LeaseOptions options_;
  const std::string bucket_;
  std::unique_ptr<NatsClient> client_;
  mutable std::mutex mu_;  // guards holder_, epoch_, revision_, held_
  std::condition_variable cv_;
  std::string holder_;
  std::uint64_t epoch_ = 0, revision_ = 0;
  bool held_ = false;
  bool stop_ = false;  // the renewal thread's stop flag (under mu_)
  std::thread renewal_;
  std::atomic<bool> paused_for_test_{false};
};

}  // namespace rill::replication
